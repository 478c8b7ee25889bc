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
// a commit writes is the proof the change happened. Each notification is
// keyed by its event (notifications.event_id is unique), so reading an event
// twice tells once.
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
	evs, err := s.store.EventsToNotify(ctx, s.notified.at.Add(-eventLag), eventBatch)
	if err != nil {
		return 0, err
	}
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
	written, err := s.store.AddEventNotifications(ctx, ns)
	if err != nil {
		return 0, err
	}
	if len(evs) > 0 {
		s.notified.at = later(s.notified.at, evs[len(evs)-1].TS)
	}
	return written, nil
}

// notificationOf is what a patient is told of an event, if anything. who
// is the member's label (Patient.Label, "子女 · 王* · 2016"; empty when the
// event names no member of an account): two members of one family booked
// in one draw read apart.
func notificationOf(cat *Catalog, ev Event, who string) (Notification, bool) {
	if (ev.BookingID == "" && ev.Reason != reasonLeftByPerson) || (ev.AccountID == "" && ev.IdentityID == "") {
		return Notification{}, false
	}
	zh, en := "（出诊已变更）", "(the session changed)"
	if sess, ok := cat.Session(ev.SessionID); ok {
		zh, en = sessionLines(cat, sess)
	}
	var body string
	switch ev.Type {
	case EventBooked:
		switch ev.Reason {
		case "lottery":
			body = told(who, "摇号中签，已为您预约："+zh, "You won the draw and are booked: "+en)
		case "waitlist":
			body = told(who, "候补成功，已为您预约："+zh, "Your waitlist place became a booking: "+en)
		case "substitute_offer":
			return Notification{}, false // the stop's notice tells of the held slot and its deadline
		default:
			body = told(who, "预约成功："+zh, "Booked: "+en)
		}
	case EventCancelled:
		switch {
		case ev.Reason == "substitute_lapsed":
			body = told(who, "替诊保留已到期，该预约已取消（不计爽约）："+zh, "The slot held with the substitute doctor lapsed unanswered: cancelled, not a no-show: "+en)
		case ev.Reason == "substitute_declined":
			// The patient's own answer (or the desk's or the call centre's
			// for them) is confirmed: the slot is let go, never a no-show.
			body = told(who, "您已放弃替诊，该预约已取消（不计爽约）："+zh, "You declined the substitute doctor: the booking is cancelled, not a no-show: "+en)
		case ev.Reason == reasonByPerson || ev.Reason == reasonLateByPerson:
			// The person it was made for, from their own account (their
			// verified self): the account that made it is told.
			body = told(who, "您为其预约的就诊人已由本人取消该预约："+zh, "Cancelled by the person it was made for: "+en)
		case ev.Reason == reasonEntryByPerson:
			body = told(who, "您为其报名的就诊人已由本人撤回该摇号报名："+zh, "Lottery entry withdrawn by the person it was made for: "+en)
		case ev.Reason == reasonLeftByPerson:
			body = told(who, "您为其候补的就诊人已由本人退出该候补："+zh, "Waitlist place left by the person it was made for: "+en)
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
