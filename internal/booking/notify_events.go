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
	var ns []Notification
	for _, ev := range evs {
		if n, ok := notificationOf(cat, ev); ok {
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

// notificationOf is what a patient is told of an event, if anything.
func notificationOf(cat *Catalog, ev Event) (Notification, bool) {
	if ev.BookingID == "" || (ev.AccountID == "" && ev.IdentityID == "") {
		return Notification{}, false
	}
	where := "（出诊已变更 the session changed）"
	if sess, ok := cat.Session(ev.SessionID); ok {
		where = sessionLine(cat, sess)
	}
	var body string
	switch ev.Type {
	case EventBooked:
		switch ev.Reason {
		case "lottery":
			body = "摇号中签，已为您预约：" + where + " You won the draw and are booked: " + where
		case "waitlist":
			body = "候补成功，已为您预约：" + where + " Your waitlist place became a booking: " + where
		case "substitute_offer":
			return Notification{}, false // the stop's notice tells of the held slot and its deadline
		default:
			body = "预约成功：" + where + " Booked: " + where
		}
	case EventCancelled:
		switch {
		case ev.Reason == "substitute_lapsed":
			body = "替诊保留已到期，该预约已取消（不计爽约）：" + where + " The slot held with the substitute doctor lapsed unanswered: cancelled, not a no-show: " + where
		case ev.Reason == "substitute_declined":
			// The patient's own answer (or the desk's or the call centre's
			// for them) is confirmed: the slot is let go, never a no-show.
			body = "您已放弃替诊，该预约已取消（不计爽约）：" + where + " You declined the substitute doctor: the booking is cancelled, not a no-show: " + where
		case ev.StaffID == "" || ev.Reason == "session_stopped":
			return Notification{}, false // the patient's own; a stopped clinic tells its own
		case strings.HasPrefix(ev.Reason, "flag_confirmed"):
			body = "经审核，您的预约已被取消：" + where + " Cancelled after a review: " + where
		case ev.Reason == "late":
			body = "已为您取消预约，已过免费取消时间，记爽约一次：" + where + " Cancelled for you after the deadline, one no-show recorded: " + where
		default:
			body = "已为您取消预约（不计爽约）：" + where + " Cancelled for you (not a no-show): " + where
		}
	case EventNoShow:
		body = "未按时就诊，已记爽约一次：" + where + " You did not come: one no-show recorded for " + where
	default:
		return Notification{}, false
	}
	return Notification{ID: ev.ID, EventID: ev.ID, Kind: string(ev.Type), HospitalID: ev.HospitalID, SessionID: ev.SessionID,
		AccountID: ev.AccountID, IdentityID: ev.IdentityID, BookingID: ev.BookingID, Body: body, CreatedAt: ev.TS}, true
}

// sessionLine names a session for a patient: hospital, department, doctor,
// visit date and period.
func sessionLine(cat *Catalog, sess *Session) string {
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
	return fmt.Sprintf("%s %s %s %s %s", hospital, dept, doctor, sess.VisitDate, sess.Period)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
