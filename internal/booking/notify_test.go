package booking_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// recordingSender is the test channel: it records what it was handed and
// fails while failing is set.
type recordingSender struct {
	mu      sync.Mutex
	sent    []booking.Notification
	failing bool
}

func (r *recordingSender) Send(_ context.Context, n booking.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("the channel is down")
	}
	r.sent = append(r.sent, n)
	return nil
}

func (r *recordingSender) Name() string { return "test" }

func (r *recordingSender) got() []booking.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]booking.Notification(nil), r.sent...)
}

// TestNotificationsAreDeliveredOnce: a stopped clinic's and a complaint's
// answer's notifications go to the sender once each; a sender that fails
// leaves them for the next run; the patient's console lists them with
// their unread state whatever the channel did.
func TestNotificationsAreDeliveredOnce(t *testing.T) {
	snd := &recordingSender{failing: true}
	h := newHarness(t, harnessConfig{soldOutFor: -1, sender: snd})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.session(sessionOpts{online: 4})
	u := h.user(1)
	b := h.mustBook(u, 0, sess, "")
	c, err := h.svc.FileCase(h.ctx, u.actor, booking.CaseRequest{Kind: booking.CaseComplaint, Category: "service",
		Text: "the waiting room was closed", BookingID: b.ID}, booking.Origin{})
	if err != nil {
		t.Fatalf("file a complaint: %v", err)
	}
	if _, err := h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor is ill"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := h.svc.AnswerCase(h.ctx, admin, c.ID, booking.CaseAnswer{Answer: "we are sorry"}); err != nil {
		t.Fatalf("answer: %v", err)
	}

	// The channel is down: nothing is delivered, the run says why.
	n, err := h.svc.DeliverNotifications(h.ctx)
	if n != 0 || err == nil {
		t.Fatalf("deliver through a failing channel = %d, %v; want 0 and an error", n, err)
	}
	// The console lists them already, unread.
	ns, unread, err := h.svc.MyNotifications(h.ctx, u.actor)
	if err != nil || len(ns) != 2 || unread != 2 {
		t.Fatalf("the patient's notifications = %d (%d unread), %v; want 2 unread", len(ns), unread, err)
	}

	// Back up: each is delivered once, the stop's first.
	snd.mu.Lock()
	snd.failing = false
	snd.mu.Unlock()
	if n, err := h.svc.DeliverNotifications(h.ctx); n != 2 || err != nil {
		t.Fatalf("deliver = %d, %v; want 2", n, err)
	}
	if n, err := h.svc.DeliverNotifications(h.ctx); n != 0 || err != nil {
		t.Fatalf("deliver again = %d, %v; want 0", n, err)
	}
	sent := snd.got()
	if len(sent) != 2 || sent[0].Kind != booking.NotifySessionStopped || sent[0].BookingID != b.ID ||
		sent[1].Kind != booking.NotifyCaseAnswered || sent[1].CaseID != c.ID || sent[1].AccountID != u.actor.AccountID {
		t.Errorf("sent = %+v, want the stop's then the answer's", sent)
	}
	if n, err := h.svc.MarkNotificationsRead(h.ctx, u.actor); n != 2 || err != nil {
		t.Errorf("mark read = %d, %v; want 2", n, err)
	}
	if _, unread, _ := h.svc.MyNotifications(h.ctx, u.actor); unread != 0 {
		t.Errorf("%d unread after marking read", unread)
	}
	other := h.user(1)
	if ns, _, _ := h.svc.MyNotifications(h.ctx, other.actor); len(ns) != 0 {
		t.Errorf("another patient sees %d notifications", len(ns))
	}
}

// TestNotificationsFromEvents: the notify job tells a patient of a booking
// and of a cancellation someone else made for them (here the hospital's
// clerk), from the event log and once per event; the patient's own
// cancellation tells nothing, and the notifications reach the sender.
func TestNotificationsFromEvents(t *testing.T) {
	snd := &recordingSender{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, sender: snd})
	sess := h.session(sessionOpts{online: 4})
	u := h.user(2)
	mine := h.mustBook(u, 0, sess, "")
	theirs := h.mustBook(u, 1, sess, "")
	if _, err := h.svc.Cancel(h.ctx, u.actor, mine.ID, booking.Origin{}); err != nil {
		t.Fatalf("the patient cancels: %v", err)
	}
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	if _, err := h.svc.Cancel(h.ctx, clerk, theirs.ID, booking.Origin{}); err != nil {
		t.Fatalf("the clerk cancels for the patient: %v", err)
	}

	n, err := h.svc.NotifyEvents(h.ctx)
	if err != nil || n != 3 {
		t.Fatalf("NotifyEvents = %d, %v; want 3 (two bookings, the clerk's cancellation)", n, err)
	}
	if n, err := h.svc.NotifyEvents(h.ctx); err != nil || n != 0 {
		t.Errorf("NotifyEvents again = %d, %v; want nothing told twice", n, err)
	}
	ns, unread, err := h.svc.MyNotifications(h.ctx, u.actor)
	if err != nil || len(ns) != 3 || unread != 3 {
		t.Fatalf("the patient's notifications = %d (%d unread), %v; want 3 unread", len(ns), unread, err)
	}
	kinds := map[string]int{}
	for _, n := range ns {
		kinds[n.Kind]++
		if n.Kind == "cancelled" && (n.BookingID != theirs.ID || !strings.Contains(n.Body, "Cancelled for you (not a no-show)")) {
			t.Errorf("cancellation notice = %+v, want the clerk's cancellation of %s, not a no-show", n, theirs.ID)
		}
		if n.Kind == "booked" && !strings.Contains(n.Body, sess.VisitDate) {
			t.Errorf("booking notice %q does not name the visit date %s", n.Body, sess.VisitDate)
		}
		// Each names its member by the console's label, never the full
		// name: the account's two members (both 张*) read apart.
		who := map[string]booking.Patient{mine.ID: u.patients[0], theirs.ID: u.patients[1]}[n.BookingID]
		if label := who.Label(); !strings.HasPrefix(n.Body, "就诊人 "+label+"：") || !strings.Contains(n.Body, " Patient "+label+": ") ||
			strings.Contains(n.Body, "张伟") {
			t.Errorf("notice %q; want it to name the member as %q in both sentences, never by the full name", n.Body, label)
		}
	}
	if ns[0].Body == ns[1].Body || ns[1].Body == ns[2].Body || ns[0].Body == ns[2].Body {
		t.Errorf("notices alike: %q", []string{ns[0].Body, ns[1].Body, ns[2].Body})
	}
	if kinds["booked"] != 2 || kinds["cancelled"] != 1 {
		t.Errorf("notification kinds = %v, want 2 booked and 1 cancelled", kinds)
	}
	if n, err := h.svc.DeliverNotifications(h.ctx); n != 3 || err != nil || len(snd.got()) != 3 {
		t.Errorf("deliver = %d, %v (sent %d); want the 3", n, err, len(snd.got()))
	}

	// Another instance taking the job over starts from what is told
	// already: nothing again.
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	if n, err := other.NotifyEvents(h.ctx); err != nil || n != 0 {
		t.Errorf("NotifyEvents on another instance = %d, %v; want 0", n, err)
	}
}

// TestStopNoticeNamesMember: a stopped clinic's notice of each cancelled
// booking names its member by the consoles' label, in both sentences, so
// two members of one family (both 王*) read apart; never the full name. A
// walk-in on no account's list reads the plain notice, without a label.
func TestStopNoticeNamesMember(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.deskSession(deskOpts{online: 4, onsite: 2})
	u := h.userOf(h.person("王大明"), h.person("王小明"))
	parent, child := h.mustBook(u, 0, sess, ""), h.mustBook(u, 1, sess, "")
	walkIn := h.mustWalkIn(h.staffOf(booking.RoleClerk, h.hosp.ID), h.person("李四"), sess)
	if _, err := h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor is ill"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	ns, err := h.svc.Notifications(h.ctx, admin, sess.ID)
	if err != nil || len(ns) != 3 {
		t.Fatalf("the stop's notifications = %d, %v; want 3", len(ns), err)
	}
	body := map[string]string{}
	for _, n := range ns {
		body[n.BookingID] = n.Body
		if !strings.Contains(n.Body, "停诊通知") || !strings.Contains(n.Body, "the doctor is ill") ||
			strings.Contains(n.Body, "王大明") || strings.Contains(n.Body, "王小明") || strings.Contains(n.Body, "李四") {
			t.Errorf("stop notice %q; want the stop and its reason, never a full name", n.Body)
		}
	}
	for id, p := range map[string]booking.Patient{parent.ID: u.patients[0], child.ID: u.patients[1]} {
		label := p.Label()
		if b := body[id]; !strings.HasPrefix(b, "就诊人 "+label+"：停诊通知") || !strings.Contains(b, " Patient "+label+": ") {
			t.Errorf("stop notice of booking %s = %q; want it to name the member as %q in both sentences", id, b, label)
		}
	}
	if body[parent.ID] == body[child.ID] {
		t.Errorf("the two members' stop notices are alike: %q", body[parent.ID])
	}
	if b := body[walkIn.ID]; !strings.HasPrefix(b, "停诊通知") || strings.Contains(b, "就诊人") || strings.Contains(b, "Patient ") {
		t.Errorf("the walk-in's stop notice = %q; want the plain one, without a label", b)
	}
}

// A stop's notices for waitlist places and lottery entries say what ended
// and name their member as a booking's does; a phone caller's place has
// none to name.
func TestStopNoticesNameWaitingMembers(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	full := h.deskSession(deskOpts{online: 1, phone: 1})
	h.mustBook(h.user(1), 0, full, "")
	_, err := h.staffBook(h.staffOf(booking.RoleOperator, h.hosp.ID), h.person("周一"), full, booking.ChannelPhone, h.phone())
	testenv.Must(t, err, "book the phone pool's slot")
	names := []string{"赵大明", "赵小明"}
	u := h.userOf(h.person(names[0]), h.person(names[1]))
	var places []booking.WaitlistEntry
	for _, p := range u.patients {
		e, err := h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: p.ID})
		testenv.Must(t, err, "join the waitlist")
		places = append(places, e)
	}
	caller, err := h.svc.JoinWaitlistFor(h.ctx, h.staffOf(booking.RoleOperator, h.hosp.ID),
		booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("钱三"), SessionID: full.ID, CallerPhone: h.phone()})
	testenv.Must(t, err, "put a caller on the phone waitlist")
	drawn := h.lotterySession(lotteryOpts{online: 2})
	entries := []booking.Entry{h.mustEnter(u, 0, drawn), h.mustEnter(u, 1, drawn)}

	told := map[string]string{} // waitlist place or entry id → its notice
	for _, s := range []*booking.Session{full, drawn} {
		if _, err := h.svc.StopSession(h.ctx, admin, s.ID, "the doctor is ill"); err != nil {
			t.Fatalf("stop %s: %v", s.ID, err)
		}
		ns, err := h.svc.Notifications(h.ctx, admin, s.ID)
		testenv.Must(t, err, "the stop's notifications")
		for _, n := range ns {
			if n.WaitlistID != "" || n.EntryID != "" {
				told[n.WaitlistID+n.EntryID] = n.Body
			}
		}
	}
	for i, p := range u.patients {
		label := p.Label()
		for id, what := range map[string][2]string{places[i].ID: {"候补已结束", "waitlist place has ended"},
			entries[i].ID: {"抽签登记已撤销", "lottery entry is withdrawn"}} {
			b := told[id]
			if !strings.HasPrefix(b, "就诊人 "+label+"：停诊通知") || !strings.Contains(b, " Patient "+label+": ") ||
				strings.Contains(b, names[i]) {
				t.Errorf("stop notice of %s = %q; want it to name the member as %q, never by full name", id, b, label)
			}
			if !strings.Contains(b, what[0]) || !strings.Contains(b, what[1]) || strings.Contains(b, "预约已取消") {
				t.Errorf("stop notice of %s = %q; want it to say its %q, not that a booking is cancelled", id, b, what[1])
			}
		}
	}
	if b := told[caller.ID]; !strings.HasPrefix(b, "停诊通知") || strings.Contains(b, "就诊人") {
		t.Errorf("the phone caller's stop notice = %q; want the plain one, without a label", b)
	}
}

// TestNotifyReadsThroughABurst: more events than one batch within the 30 s
// the job reads behind its cursor — a lottery window's entries, a release
// minute's bookings — are all told. A run read one batch, moved its cursor
// to the batch's last event (inside the 30 s), and the next run read the
// same first batch again: nothing after it was ever told (review16b).
func TestNotifyReadsThroughABurst(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	sess := h.session(sessionOpts{online: 4})
	u := h.user(1)
	const burst = 2500 // two and a half batches, in one second
	at := time.Now().Add(-5 * time.Second)
	evs := make([]booking.Event, burst)
	for i := range evs {
		evs[i] = booking.Event{ID: booking.NewID(), TS: at.Add(time.Duration(i%7) * time.Millisecond), Type: booking.EventNoShow,
			AccountID: u.actor.AccountID, PatientID: u.patients[0].ID, IdentityID: u.patients[0].IdentityID,
			BookingID: booking.NewID(), SessionID: sess.ID, HospitalID: h.hosp.ID}
	}
	testenv.Must(t, h.store.RecordEvents(h.ctx, evs), "record the burst")
	told := 0
	for range 3 {
		n, err := h.svc.NotifyEvents(h.ctx)
		testenv.Must(t, err, "notify")
		told += n
	}
	if told != burst {
		t.Errorf("%d of a burst of %d no-shows told over three runs, want every one once", told, burst)
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'no_show'`, u.actor.AccountID); n != burst {
		t.Errorf("%d no-show notices stored, want %d", n, burst)
	}
}
