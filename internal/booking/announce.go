package booking

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Ordinary changes of a clinic (review19b M5): the room it is held in
// (诊室调整) and a delayed start (延迟开诊, "the doctor starts 40 minutes
// late"). Neither moves a slot nor cancels anything: the session keeps its
// bookings, numbers and times, its public record shows the room and the
// delay, and every patient who holds something of it — a booking, a
// waiting place, a live lottery entry — is told through the notifications a
// stop writes (an account's console, or the hospital's call-back list for a
// phone caller or walk-in no account lists). A clinic moved to another
// time (改期) is docs/design.md's "Changes patients are told of".

// MaxDelayMinutes bounds an announced delay: a clinic that starts more than
// four hours late is another half-day's, stopped or moved, not delayed.
const MaxDelayMinutes = 240

// AnnounceRequest is a change of a session its patients are told of. Room
// and DelayMinutes are each left as they are when nil; Reason is told to
// the patients; Version is the session's version the change was made from
// (GET /v1/admin/sessions/{id}'s, or the listing's), as an edit's.
type AnnounceRequest struct {
	Room         *string
	DelayMinutes *int
	Reason       string
	Version      int64
}

// AnnounceResult is what an announced change told: the session's new
// version, the notices to accounts and those on the call-back list.
type AnnounceResult struct {
	Session              *Session
	Version              int64
	Notified, ToCallBack int
}

// AnnounceSession records a room change or a delay on a session and tells
// its patients. An administrator of the hospital changes either, on any
// day before the clinic is over; a registration clerk of the hospital
// announces the delay only, and on the visit day only — the desk sees the
// doctor is late, as it adds extra slots that day (review19b L4's rule). A
// stopped clinic changes no more (its patients were told of the stop); a
// change made from an older version is refused (edited_meanwhile).
func (s *Service) AnnounceSession(ctx context.Context, actor Actor, id string, req AnnounceRequest) (AnnounceResult, error) {
	if actor.Role != RoleAdmin && actor.Role != RoleClerk {
		return AnnounceResult{}, Errorf(ErrForbidden, "only administrators (and, for the day's delay, registration clerks) announce a clinic's changes")
	}
	if actor.Role == RoleClerk && req.Room != nil {
		return AnnounceResult{}, Errorf(ErrForbidden, "a clerk announces a delay only: the room is the administrator's")
	}
	if req.Room == nil && req.DelayMinutes == nil {
		return AnnounceResult{}, FieldErrorf(ErrInvalidField, "room", "send room or delay_minutes: nothing to announce")
	}
	if err := requireText("reason", req.Reason, 2, "; patients are told it"); err != nil {
		return AnnounceResult{}, err
	}
	if err := auditText("reason", req.Reason, 200); err != nil {
		return AnnounceResult{}, err
	}
	if req.Version < 1 {
		return AnnounceResult{}, ErrVersionRequired
	}
	cat := s.catalog.Load()
	sess, err := sessionToChange(cat, actor, id, ErrSessionStopped)
	if err != nil {
		return AnnounceResult{}, err
	}
	now := s.cfg.Now()
	if !now.Before(sess.Closes()) {
		return AnnounceResult{}, Errorf(ErrSessionClosed, "the session is over")
	}
	h, _ := cat.Hospital(sess.HospitalID)
	loc := chinaStandardTime
	if h != nil {
		loc = h.Location()
	}
	if actor.Role == RoleClerk {
		if today := now.In(loc).Format(time.DateOnly); sess.VisitDate != today {
			return AnnounceResult{}, Errorf(ErrForbidden, "a clerk announces a delay on the visit day only (this session is on %s, today is %s): an administrator announces one ahead",
				sess.VisitDate, today)
		}
	}
	if err := sess.at(req.Version); err != nil {
		return AnnounceResult{}, err
	}
	next := *sess
	next.Version = req.Version // what SQL checks, in the transaction
	if req.Room != nil {
		room := strings.TrimSpace(*req.Room)
		if err := checkText("room", room, 60); err != nil {
			return AnnounceResult{}, err
		}
		next.Room = room
	}
	if req.DelayMinutes != nil {
		if d := *req.DelayMinutes; d < 0 || d > MaxDelayMinutes {
			return AnnounceResult{}, FieldErrorf(ErrInvalidField, "delay_minutes", "delay_minutes must be 0 (on time) to %d", MaxDelayMinutes)
		}
		next.DelayMinutes = *req.DelayMinutes
	}
	if next.Room == sess.Room && next.DelayMinutes == sess.DelayMinutes {
		return AnnounceResult{}, FieldErrorf(ErrInvalidField, "room", "the room and the delay are as announced already: nothing to tell")
	}
	doc, _ := cat.Doctor(sess.DoctorID)
	notice := announceNotice(sess, &next, doc, h, loc, req.Reason)
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_announce",
		Target: "session:" + sess.ID, HospitalID: sess.HospitalID, Reason: announceSummary(sess, &next, req.Reason)}
	res, err := s.store.AnnounceSession(ctx, next, notice, audit)
	if err != nil {
		return AnnounceResult{}, err
	}
	if _, err := s.Refresh(ctx); err != nil {
		s.log.Warn("refresh after an announced change; the listing shows it at the next refresh", "session_id", sess.ID, "err", err)
	}
	res.Session = &next
	if got, ok := s.catalog.Load().Session(sess.ID); ok {
		res.Session = got
	}
	return res, nil
}

// announceNotice is what a session's patients are told of a room change
// or a delay: what changed, the reason, and that what they hold stands.
func announceNotice(old, next *Session, doc Doctor, h *Hospital, loc *time.Location, reason string) Notice {
	name := "the hospital"
	if h != nil {
		name = h.Name
	}
	when := old.StartsAt.In(loc).Format("2006-01-02 15:04")
	var zh, en []string
	if next.Room != old.Room {
		switch {
		case next.Room == "":
			zh = append(zh, "诊室另行通知（原"+old.Room+"）")
			en = append(en, "the room is to be announced (was "+old.Room+")")
		case old.Room == "":
			zh = append(zh, "就诊地点："+next.Room)
			en = append(en, "it is held in "+next.Room)
		default:
			zh = append(zh, "诊室改为"+next.Room+"（原"+old.Room+"）")
			en = append(en, "it is now held in "+next.Room+" (was "+old.Room+")")
		}
	}
	if next.DelayMinutes != old.DelayMinutes {
		if next.DelayMinutes == 0 {
			zh = append(zh, "按原定时间开诊")
			en = append(en, "it starts on time")
		} else {
			starts := old.StartsAt.Add(time.Duration(next.DelayMinutes) * time.Minute).In(loc).Format("15:04")
			zh = append(zh, fmt.Sprintf("推迟约%d分钟开诊（约%s开始），请按您的就诊时间推后约%d分钟到诊", next.DelayMinutes, starts, next.DelayMinutes))
			en = append(en, fmt.Sprintf("it starts about %d minutes late (about %s): come about %d minutes after your time", next.DelayMinutes, starts, next.DelayMinutes))
		}
	}
	return Notice{
		ZH: fmt.Sprintf("门诊变更：%s %s %s（%s）的门诊%s。原因：%s。您的预约、序号（或候补、抽签登记）不变。", name, doc.Name, when, periodsZH[old.Period],
			strings.Join(zh, "；"), reason),
		EN: fmt.Sprintf("%s: the clinic of %s at %s changed: %s (%s). Your booking and number (or waitlist place, lottery entry) stand.", name, doc.Name, when,
			strings.Join(en, "; "), reason),
	}
}

// announceSummary is the audit log's line for an announced change.
func announceSummary(old, next *Session, reason string) string {
	var parts []string
	if next.Room != old.Room {
		parts = append(parts, fmt.Sprintf("room %q → %q", old.Room, next.Room))
	}
	if next.DelayMinutes != old.DelayMinutes {
		parts = append(parts, fmt.Sprintf("delay %d → %d min", old.DelayMinutes, next.DelayMinutes))
	}
	return strings.Join(parts, ", ") + ": " + reason
}

// NoticeSessionMoved is the kind of the notice a moved clinic (改期) writes.
const NoticeSessionMoved = "session_moved"

// MoveRequest moves a session to another time (改期): its new visit date,
// period and start (the clinic keeps its length; every slot, extra slots
// too, shifts by as much), the reason patients are told, and the version
// it was made from.
type MoveRequest struct {
	VisitDate string
	Period    string
	StartsAt  time.Time
	Reason    string
	Version   int64
}

// MoveResult is what a move did: the session as moved, the bookings that
// went with it (Moved), those cancelled instead because their person
// already holds another booking in the department on the new day
// (Cancelled), and the notices written.
type MoveResult struct {
	Session              *Session
	Moved, Cancelled     int
	Notified, ToCallBack int
}

// MoveNotices are what a move tells: those whose booking (waiting place,
// lottery entry) goes with the clinic, and those whose booking it
// cancelled (they hold another that day in that department).
type MoveNotices struct{ Moved, Cancelled Notice }

// MoveSession moves a clinic that has not started to another time (改期),
// keeping what its patients hold: the hospital's choice (docs/design.md,
// "Changes patients are told of") is that a moved booking stands unless
// the patient refuses it — each is told, and may cancel free of any
// no-show penalty until the clinic's new start (Session.MovedAfter),
// whatever the hospital's deadline. A person who already holds another
// booking in the department on the new day keeps that one; the moved one
// is cancelled, never late, and they are told. Slot numbers stay, slot
// times shift with the clinic; pools not yet released keep their announced
// release times, which must fall before the new start, as lottery draws
// must. The session closes in Redis while SQL moves it (the session row
// locked, at the version the move was made from), then is rebuilt from SQL
// on its new day.
func (s *Service) MoveSession(ctx context.Context, actor Actor, id string, req MoveRequest) (MoveResult, error) {
	old, err := s.changeable(actor, id)
	if err != nil {
		return MoveResult{}, err
	}
	if err := requireText("reason", req.Reason, 2, "; patients are told it"); err != nil {
		return MoveResult{}, err
	}
	if err := auditText("reason", req.Reason, 200); err != nil {
		return MoveResult{}, err
	}
	if req.Version < 1 {
		return MoveResult{}, ErrVersionRequired
	}
	if err := old.at(req.Version); err != nil {
		return MoveResult{}, err
	}
	cat := s.catalog.Load()
	now := s.cfg.Now()
	if !now.Before(old.StartsAt) {
		return MoveResult{}, Errorf(ErrSessionClosed, "the clinic has started: it is delayed (announcements) or stopped, not moved")
	}
	h, _ := cat.Hospital(old.HospitalID)
	loc := chinaStandardTime
	if h != nil {
		loc = h.Location()
	}
	if req.StartsAt.IsZero() {
		return MoveResult{}, FieldErrorf(ErrInvalidField, "starts_at", "starts_at is required")
	}
	if req.StartsAt.Equal(old.StartsAt) {
		return MoveResult{}, FieldErrorf(ErrInvalidField, "starts_at", "the clinic starts then already: nothing to move")
	}
	if !req.StartsAt.After(now) {
		return MoveResult{}, ErrSessionInPast
	}
	if req.StartsAt.After(scheduleHorizon(now, loc)) {
		return MoveResult{}, ErrSessionTooFar
	}
	if req.VisitDate != req.StartsAt.In(loc).Format(time.DateOnly) {
		return MoveResult{}, FieldErrorf(ErrInvalidField, "date", "date must be the new start's date in the hospital's zone (%s)", req.StartsAt.In(loc).Format(time.DateOnly))
	}
	if !periodFits(req.Period, req.StartsAt.In(loc)) {
		return MoveResult{}, FieldErrorf(ErrInvalidField, "period", "period must be morning, afternoon or evening and fit the new start")
	}
	shift := req.StartsAt.Sub(old.StartsAt)
	next := *old
	next.VisitDate, next.Period, next.StartsAt, next.EndsAt = req.VisitDate, req.Period, req.StartsAt, old.EndsAt.Add(shift)
	next.DelayMinutes = 0 // a delay is of its visit day: the moved clinic starts on time (the notice says so)
	if next.EndsAt.In(loc).Format(time.DateOnly) != next.VisitDate {
		return MoveResult{}, FieldErrorf(ErrInvalidField, "starts_at", "the clinic would end after midnight: it keeps its length (%s)", old.EndsAt.Sub(old.StartsAt))
	}
	next.Slots = make([]Slot, len(old.Slots))
	for i, sl := range old.Slots {
		sl.StartsAt, sl.EndsAt = sl.StartsAt.Add(shift), sl.EndsAt.Add(shift)
		next.Slots[i] = sl
	}
	for _, q := range old.Channels {
		if !q.ReleaseAt.Before(next.StartsAt) || q.IsLottery() && !q.DrawAt.Before(next.StartsAt) {
			return MoveResult{}, Errorf(ErrReleaseAfterStart, "the %s pool opens (or draws) at %s, not before the new start: move its release first",
				q.Channel, q.ReleaseAt.In(loc).Format("2006-01-02 15:04"))
		}
	}
	for _, o := range cat.HospitalSessions(old.HospitalID) {
		if o.ID != old.ID && o.DoctorID == old.DoctorID && !o.Stopped() && (o.StartsAt.Before(next.EndsAt) && next.StartsAt.Before(o.EndsAt) ||
			o.VisitDate == next.VisitDate && o.Period == next.Period) {
			return MoveResult{}, Errorf(ErrSessionOverlap, "the doctor already has a clinic on %s %s", o.VisitDate, periodsZH[o.Period])
		}
	}
	next.Version = req.Version
	doc, _ := cat.Doctor(old.DoctorID)
	notices := moveNotices(old, &next, doc, h, loc, req.Reason)
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_move",
		Target: "session:" + old.ID, HospitalID: old.HospitalID,
		Reason: fmt.Sprintf("moved %s–%s → %s–%s: %s", when(old.StartsAt), old.EndsAt.In(loc).Format("15:04"), when(next.StartsAt),
			next.EndsAt.In(loc).Format("15:04"), req.Reason)}
	var res MoveResult
	err = s.changeClosed(ctx, old, func() error {
		s.drainHolds(ctx, old)
		var err error
		res, err = s.store.MoveSession(ctx, next, old.StartsAt, notices, audit)
		return err
	})
	if err != nil {
		return MoveResult{}, err
	}
	res.Session = &next
	if got, ok := s.catalog.Load().Session(old.ID); ok {
		res.Session = got
	}
	s.log.Info("clinic moved", "session_id", old.ID, "moved", res.Moved, "cancelled", res.Cancelled, "notified", res.Notified,
		"to_call_back", res.ToCallBack)
	return res, nil
}

// moveNotices are the texts a move writes.
func moveNotices(old, next *Session, doc Doctor, h *Hospital, loc *time.Location, reason string) MoveNotices {
	name := "the hospital"
	if h != nil {
		name = h.Name
	}
	was := old.StartsAt.In(loc).Format("2006-01-02 15:04")
	now := next.StartsAt.In(loc).Format("2006-01-02 15:04")
	zh := fmt.Sprintf("改期通知：%s %s 原定 %s（%s）的门诊改至 %s（%s），原因：%s。", name, doc.Name, was, periodsZH[old.Period], now, periodsZH[next.Period], reason)
	en := fmt.Sprintf("%s: the clinic of %s at %s moves to %s (%s).", name, doc.Name, was, now, reason)
	if old.DelayMinutes > 0 {
		zh += fmt.Sprintf("原通知的延迟开诊（%d 分钟）不再适用，新时间准时开诊。", old.DelayMinutes)
		en += fmt.Sprintf(" The %d-minute delay announced for the old day no longer applies: it starts on time.", old.DelayMinutes)
	}
	return MoveNotices{
		Moved: Notice{ZH: zh + "您的预约（或候补、抽签登记）随门诊改期，序号不变；如不能前来，开诊前取消不计爽约。",
			EN: en + " Your booking (or waitlist place, lottery entry) moves with it, at the same number; if you cannot come, cancelling before it starts is never a no-show."},
		Cancelled: Notice{ZH: zh + "您当天在该科室已有另一预约，本预约已取消，不计爽约。",
			EN: en + " You already hold another booking in this department that day: this one is cancelled without penalty."},
	}
}
