package booking

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Notifications of what happened to a booking — booked (online, by the
// waitlist, by a lottery draw, or for the person by phone or at the desk),
// cancelled by someone else than its patient or by a declined substitute
// offer (替诊, the patient's own answer confirmed), marked a no-show — are derived
// from the booking-event log by the notify job, not written on the booking
// path: the release second's commits stay one statement each, and the event
// a commit writes is the proof the change happened. A booking, lottery entry
// or waitlist place another account made for a person tells the person's
// own account too (personNotices). Each notification is keyed by its event
// and its kind (notifications.event_id and kind are unique together: the
// maker's and the person's notices of one event differ in kind), so reading
// an event twice tells once.
//
// The job reads the events of those types from a cursor, kept in memory by
// the instance holding the job's lease and started, when it takes the lease,
// from the newest event already told (or eventLookback ago). It reads
// eventLag behind the cursor every time: an event is stamped when its
// request is admitted and stored when its batch commits, so one may land
// behind a later one already read; a commit that ends more than eventLag
// after its stamp (requests time out long before) would not be told.

const (
	eventLag      = 30 * time.Second
	eventLookback = time.Hour
	eventBatch    = 1000
	// eventPages bounds one run: a page goes on where the one before it
	// ended (time, then id), so a burst of more than a batch within
	// eventLag — a lottery window's entries — is read through instead of
	// read again at every run (the cursor stayed where the batch's last
	// event was, inside the lag, and nothing after it was ever told).
	eventPages = 50
)

// eventCursor is where the notify job reads the event log from.
type eventCursor struct {
	mu sync.Mutex
	at time.Time // zero until the first run on this instance
}

// NotifyEvents turns the events since the cursor into notifications and
// returns how many it wrote.
func (s *Service) NotifyEvents(ctx context.Context) (int, error) {
	s.notified.mu.Lock()
	defer s.notified.mu.Unlock()
	if s.notified.at.IsZero() {
		last, err := s.store.LastEventNotification(ctx)
		if err != nil {
			return 0, err
		}
		s.notified.at = later(last, s.cfg.Now().Add(-eventLookback))
	}
	from, after, written := s.notified.at.Add(-eventLag), "", 0
	for range eventPages {
		evs, err := s.store.EventsToNotify(ctx, from, after, eventBatch)
		if err != nil {
			return written, err
		}
		n, err := s.notifyPage(ctx, evs)
		written += n
		if err != nil {
			return written, err
		}
		if len(evs) == 0 {
			break
		}
		last := evs[len(evs)-1]
		s.notified.at = later(s.notified.at, last.TS)
		if len(evs) < eventBatch {
			break
		}
		from, after = last.TS, last.ID
	}
	return written, nil
}

// notifyPage writes the notifications of one page of events.
func (s *Service) notifyPage(ctx context.Context, evs []Event) (int, error) {
	cat := s.catalog.Load()
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.PatientID
	}
	who, err := s.memberLabels(ctx, ids)
	if err != nil {
		return 0, err
	}
	var ns []Notification
	for _, ev := range evs {
		if n, ok := notificationOf(cat, ev, who[ev.PatientID]); ok {
			ns = append(ns, n)
		}
	}
	persons, err := s.personNotices(ctx, cat, evs)
	if err != nil {
		return 0, err
	}
	return s.store.AddEventNotifications(ctx, append(ns, persons...))
}

// onPhoneZH and onPhoneEN say how the call centre knew the caller was the
// patient an account made something for (cancelForPatient, patientOnLine).
const (
	onPhoneZH = "（话务员核对了证件号码和姓名，来电号码是您为其登记的联系电话）"
	onPhoneEN = " (the operator checked the ID number and name; the call came from the contact number you gave for them)"
)

// notificationOf is what a patient is told of an event, if anything. who
// is the member's label (Patient.Label, "子女 · 王* · 2016"; empty when the
// event names no member of an account): two members of one family booked
// in one draw read apart.
func notificationOf(cat *Catalog, ev Event, who string) (Notification, bool) {
	if (ev.BookingID == "" && ev.Reason != reasonLeftByPerson && ev.Reason != reasonLeftByPersonOnPhone && ev.Reason != ReasonNameDisproved && ev.Reason != reasonDocumentsLinked && ev.Reason != ReasonDeceased) || (ev.AccountID == "" && ev.IdentityID == "") {
		return Notification{}, false
	}
	zh, en := "（出诊已变更）", "(the session changed)"
	sess, known := cat.Session(ev.SessionID)
	if known {
		zh, en = sessionLines(cat, sess)
	}
	var body string
	switch ev.Type {
	case EventBooked:
		switch ev.Reason {
		case "lottery":
			fz, fe := freeCancelLines(cat, sess, known, ev.TS)
			body = told(who, "摇号中签，已为您预约："+zh+fz, "You won the draw and are booked: "+en+fe)
		case "waitlist":
			fz, fe := freeCancelLines(cat, sess, known, ev.TS)
			body = told(who, "候补成功，已为您预约："+zh+fz, "Your waitlist place became a booking: "+en+fe)
		case "substitute_offer":
			return Notification{}, false // the stop's notice tells of the held slot and its deadline
		default:
			body = told(who, "预约成功："+zh, "Booked: "+en)
		}
	case EventCancelled:
		switch {
		case ev.Reason == "substitute_lapsed":
			body = told(who, "替诊保留已到期，该预约已取消（不计爽约）："+zh, "The slot held with the substitute doctor lapsed unanswered: cancelled, not a no-show: "+en)
		case ev.Reason == "substitute_declined" && ev.StaffID != "":
			// The desk or the call centre gave the answer for the patient
			// (review23 M4): the account is told who did, so an answer it
			// did not give does not pass unnoticed.
			body = told(who, "医院工作人员（窗口或电话预约）已代为放弃替诊，该预约已取消（不计爽约）；如非本人意愿，请尽快联系医院："+zh,
				"Hospital staff (the desk or the call centre) declined the substitute doctor for the patient: the booking is cancelled, "+
					"not a no-show; if that was not the patient's answer, contact the hospital now: "+en)
		case ev.Reason == "substitute_declined":
			// The patient's own answer is confirmed: the slot is let go,
			// never a no-show.
			body = told(who, "您已放弃替诊，该预约已取消（不计爽约）："+zh, "You declined the substitute doctor: the booking is cancelled, not a no-show: "+en)
		case ev.Reason == reasonByPersonOnPhone || ev.Reason == reasonLateByPersonOnPhone:
			// The person rang the call centre from the contact number this
			// account gave for them (review23 M2).
			zl, el := "", ""
			if ev.Reason == reasonLateByPersonOnPhone {
				zl, el = "已过免费取消时间，为就诊人记爽约一次。", " It was past the free cancellation deadline: one no-show for the patient."
			}
			body = told(who, "您为其预约的就诊人已本人致电医院电话预约中心取消该预约"+onPhoneZH+"。"+zl+"如需改约，请重新预约："+zh,
				"The patient you booked for rang the hospital's call centre and cancelled this booking"+onPhoneEN+"."+el+" To move it, book again: "+en)
		case ev.Reason == reasonByPerson || ev.Reason == reasonLateByPerson:
			// The person it was made for, from their own account (their
			// verified self): the account that made it is told.
			body = told(who, "您为其预约的就诊人已由本人取消该预约："+zh, "Cancelled by the person it was made for: "+en)
		case ev.Reason == reasonEntryByPersonOnPhone || ev.Reason == reasonLeftByPersonOnPhone:
			// As a booking's, above (session 25).
			zd, ed := "报名的就诊人已本人致电医院电话预约中心撤回该摇号报名", "entered rang the hospital's call centre and withdrew this lottery entry"
			if ev.Reason == reasonLeftByPersonOnPhone {
				zd, ed = "候补的就诊人已本人致电医院电话预约中心退出该候补", "put on the waitlist rang the hospital's call centre and left this waitlist place"
			}
			body = told(who, "您为其"+zd+onPhoneZH+"："+zh, "The patient you "+ed+onPhoneEN+": "+en)
		case ev.Reason == reasonEntryByPerson:
			body = told(who, "您为其报名的就诊人已由本人撤回该摇号报名："+zh, "Lottery entry withdrawn by the person it was made for: "+en)
		case ev.Reason == reasonLeftByPerson:
			body = told(who, "您为其候补的就诊人已由本人退出该候补："+zh, "Waitlist place left by the person it was made for: "+en)
		case ev.Reason == ReasonNameDisproved && ev.SessionID == "":
			// The desk verified the person's name from their ID card, and
			// this account claimed them as its own (本人) under another
			// (voidDisproved, Store.DropDisprovedSelves).
			body = told(who, "经窗口核验身份证，该证件持有人的真实姓名与您填写的姓名不符，该就诊人已不再是本账号的本人，仅保留为其他就诊人（可删除）。",
				"The registration desk verified this ID card holder's name, and the name you gave is not theirs: the person is no "+
					"longer this account's own (本人); they stay on your list as another person, whom you may remove.")
		case ev.Reason == ReasonNameDisproved:
			// The desk verified the person's name from their ID card, and
			// it is not the name this account gave for them (a booking, a
			// lottery entry or a waitlist place: voidDisproved).
			body = told(who, "经窗口核验身份证，该就诊人的真实姓名与您填写的姓名不符，您以该姓名为其所做的预约、摇号报名或候补已作废："+zh,
				"Void: the registration desk verified this person's name from their ID card, and it is not the name you gave; "+
					"the booking, lottery entry or waitlist place you made for them under it is void: "+en)
		case ev.Reason == ReasonDeceased:
			// The desk recorded the person's death (RecordDeath): said
			// gently, and never as a no-show or as the person's act.
			body = told(who, "医院已知悉该就诊人离世，已为其撤销此项预约、摇号报名或候补（不计爽约）。谨致哀悼。"+zh,
				"The hospital has been told of this patient's death and has withdrawn this booking, lottery entry or waitlist "+
					"place (not a no-show). Our condolences. "+en)
		case strings.HasPrefix(ev.Reason, ReasonClosedAtDesk):
			return Notification{}, false // the account is closed: the clerk reads the closing's answer out
		case ev.Reason == reasonDocumentsLinked:
			// The desk linked the person's two ID documents: one person, who
			// already held a like booking, entry or place under the other
			// (voidLinked).
			body = told(who, "经窗口核验，该就诊人的两种证件属于同一人；同一人已有相同的预约、摇号报名或候补，较晚的这一项已作废（不计爽约）："+zh,
				"Void: the registration desk found this person's two ID documents are one person's, who already holds the like; "+
					"this later booking, lottery entry or waitlist place is void, not a no-show: "+en)
		case ev.StaffID == "" || ev.Reason == "session_stopped":
			return Notification{}, false // the patient's own; a stopped clinic tells its own
		case strings.HasPrefix(ev.Reason, "flag_confirmed"):
			body = told(who, "经审核，您的预约已被取消："+zh, "Cancelled after a review: "+en)
		case ev.Reason == "late":
			body = told(who, "已为您取消预约，已过免费取消时间，记爽约一次："+zh, "Cancelled for you after the deadline, one no-show recorded: "+en)
		default:
			body = told(who, "已为您取消预约（不计爽约）："+zh, "Cancelled for you (not a no-show): "+en)
		}
	case EventNoShow:
		body = told(who, "未按时就诊，已记爽约一次："+zh, "You did not come: one no-show recorded for "+en)
	default:
		return Notification{}, false
	}
	return Notification{ID: ev.ID, EventID: ev.ID, Kind: string(ev.Type), HospitalID: ev.HospitalID, SessionID: ev.SessionID,
		AccountID: ev.AccountID, IdentityID: ev.IdentityID, BookingID: ev.BookingID, Body: body, CreatedAt: ev.TS,
		CallBack: ev.AccountID == "" && happenedOffTheLine(ev)}, true
}

// told is a notification's body: the Chinese sentence, then the English,
// each naming the member it is about when there is one.
func told(who, zh, en string) string {
	if who == "" {
		return zh + " " + en
	}
	return "就诊人 " + who + "：" + zh + " Patient " + who + ": " + en
}

// freeCancelLines say until when cancelling a booking the service made at
// made (a draw's win, a waitlist promotion) is free: the notice's promise,
// Hospital.FreeCancelUntil's. Empty when the session or its hospital is
// gone from the catalog.
func freeCancelLines(cat *Catalog, sess *Session, known bool, made time.Time) (zh, en string) {
	if !known {
		return "", ""
	}
	h, ok := cat.Hospital(sess.HospitalID)
	if !ok {
		return "", ""
	}
	free := h.FreeCancelUntil(Booking{VisitDate: sess.VisitDate, CreatedAt: made, Allotted: true}, made).
		In(h.Location()).Format("01-02 15:04")
	return "。" + free + " 前可免费取消，之后取消计爽约", ". Free to cancel until " + free + "; later counts as a no-show"
}

// periodsZH are the periods as the consoles write them in Chinese.
var periodsZH = map[string]string{"morning": "上午", "afternoon": "下午", "evening": "晚间"}

// sessionLines names a session for a patient, in Chinese and in English:
// hospital, department, doctor, visit date and period (上午/下午/晚间 in
// the one, morning/afternoon/evening in the other).
func sessionLines(cat *Catalog, sess *Session) (zh, en string) {
	hospital, dept, doctor := "", "", ""
	if h, ok := cat.Hospital(sess.HospitalID); ok {
		hospital = h.Name
	}
	if d, ok := cat.Department(sess.DepartmentID); ok {
		dept = d.Name
	}
	if d, ok := cat.Doctor(sess.DoctorID); ok {
		doctor = d.Name
	}
	line := fmt.Sprintf("%s %s %s %s ", hospital, dept, doctor, sess.VisitDate)
	zhPeriod, ok := periodsZH[sess.Period]
	if !ok {
		zhPeriod = sess.Period
	}
	return line + zhPeriod, line + sess.Period
}

// memberLabels maps the ids among patientIDs to the members' labels
// (Patient.Label), for the notifications that name them.
func (s *Service) memberLabels(ctx context.Context, patientIDs []string) (map[string]string, error) {
	var ids []string
	out := map[string]string{}
	for _, id := range patientIDs {
		if _, seen := out[id]; isUUID(id) && !seen {
			ids = append(ids, id)
			out[id] = "" // unnamed, should the patient be gone
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := s.store.PatientsByID(ctx, ids)
	for _, p := range ps {
		out[p.ID] = p.Label()
	}
	return out, err
}

// NotificationMadeByOther is the kind of the notice that tells a person
// what another account made for them (personNotices).
const NotificationMadeByOther = "made_by_other_account"

// madeForPerson reports whether an event is something a patient account
// made for a person, of which the person's own account is told: a booking
// (online, or the one a draw or a waitlist made of that account's entry or
// place), a lottery entry, a waitlist place (joined, or the one a lost
// draw made of that account's entry). Not what staff made (a desk, phone
// or referral booking, entry or place: the person was there, or on the
// line; such events have no account, or name the clerk or operator), nor
// a substitute's held slot (the booking it replaces was told).
func madeForPerson(ev Event) bool {
	switch ev.Type {
	case EventBooked:
		if ev.Reason == "substitute_offer" {
			return false
		}
	case EventLotteryEntered, EventWaitlisted:
	default:
		return false
	}
	return ev.AccountID != "" && ev.StaffID == "" && ev.IdentityID != ""
}

// personNotices tells, of each event among evs that made something for a
// person (madeForPerson) from an account other than the person's own, the
// account holding the person as its verified self (docs/security.md,
// "Ownership"): the one that sees and ends what others made for them.
// Not an unverified self: whoever claimed the ID number as his own self
// first would learn where the person is booked, and could not end it.
// Nobody when no account holds the person as its verified self (a family
// member without an account of their own, or one never bound at the
// desk), nor when that account made it. Of the maker it says only its
// phone, masked (as the list of what others made does).
func (s *Service) personNotices(ctx context.Context, cat *Catalog, evs []Event) ([]Notification, error) {
	var ids []string
	seen := map[string]bool{}
	for _, ev := range evs {
		if madeForPerson(ev) && !seen[ev.IdentityID] {
			seen[ev.IdentityID] = true
			ids = append(ids, ev.IdentityID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	selves, err := s.store.VerifiedSelfAccounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	var told []Event
	var makers []string
	for _, ev := range evs {
		if self, ok := selves[ev.IdentityID]; ok && self != ev.AccountID && madeForPerson(ev) {
			told, makers = append(told, ev), append(makers, ev.AccountID)
		}
	}
	if len(told) == 0 {
		return nil, nil
	}
	phones, err := s.store.MaskedPhones(ctx, makers)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(told))
	for _, ev := range told {
		out = append(out, personNotice(cat, ev, selves[ev.IdentityID], phones[ev.AccountID]))
	}
	return out, nil
}

// personNotice is the notice to the person's own account (self) of what
// the account whose phone, masked, is maker made for them: what, where,
// that it was another account, and what to do if they did not ask for it.
func personNotice(cat *Catalog, ev Event, self, maker string) Notification {
	zh, en := "（出诊已变更）", "(the session changed)"
	if sess, ok := cat.Session(ev.SessionID); ok {
		zh, en = sessionLines(cat, sess)
	}
	byZH, acct := "另一账号", "nother account"
	if maker != "" {
		byZH, acct = "另一账号（"+maker+"）", "nother account ("+maker+")"
	}
	byEN, inEN := "A"+acct, "a"+acct // opening a sentence, inside one
	n := Notification{ID: newID(), EventID: ev.ID, Kind: NotificationMadeByOther, HospitalID: ev.HospitalID, SessionID: ev.SessionID,
		AccountID: self, IdentityID: ev.IdentityID, CreatedAt: ev.TS}
	var what, whatEN, end, endEN string
	switch {
	case ev.Type == EventLotteryEntered:
		n.EntryID = ev.BookingID // an entry event names its entry there
		what, whatEN = byZH+"以您的身份为您报名了摇号：", byEN+" entered you in the draw for: "
		end, endEN = "撤回", "withdraw it"
	case ev.Type == EventWaitlisted && ev.Reason == "lottery":
		n.WaitlistID = ev.BookingID // a place's event names its place there (none before lows17)
		what, whatEN = byZH+"为您报名的摇号未中签，已为您加入候补：", "A draw "+inEN+" entered you in put you on its waitlist: "
		end, endEN = "退出", "leave it"
	case ev.Type == EventWaitlisted:
		n.WaitlistID = ev.BookingID
		what, whatEN = byZH+"以您的身份为您加入了候补：", byEN+" put you on the waitlist for: "
		end, endEN = "退出", "leave it"
	case ev.Reason == "lottery":
		n.BookingID = ev.BookingID
		what, whatEN = byZH+"为您报名的摇号已中签，已为您预约：", "A draw "+inEN+" entered you in booked you: "
		end, endEN = "取消", "cancel it"
	case ev.Reason == "waitlist":
		n.BookingID = ev.BookingID
		what, whatEN = byZH+"为您加入的候补已转为预约：", "A waitlist place "+inEN+" made for you became a booking: "
		end, endEN = "取消", "cancel it"
	default:
		n.BookingID = ev.BookingID
		what, whatEN = byZH+"以您的身份为您预约了：", byEN+" booked you: "
		end, endEN = "取消", "cancel it"
	}
	n.Body = what + zh + "。如非您本人委托，请在“我的预约”中" + end + "，并在“投诉举报”中举报。 " +
		whatEN + en + ". If you did not ask for it, " + endEN + " under My bookings and report it under Reports."
	return n
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
