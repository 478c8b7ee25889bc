package booking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Holidays and bulk work (review19b M7). A hospital keeps a holiday
// calendar: the days (国庆, 春节, a closure of its own) its weekly templates
// publish no clinic on. Adding a day withdraws the clinics already published
// on it that nothing was booked, entered or waitlisted in; those with
// patients stay, listed in the answer, for a stop that tells them — one
// session at a time or all at once with BulkStop, which runs each session
// through the same path as its own stop or withdrawal (Stop, DeleteSession):
// closed in Redis, drained, one SQL transaction with its notices and audit
// row, at the version the bulk read it at. A clinic published one by one on
// a holiday (节假日门诊) is the hospital's choice and stays allowed.
//
// 调休: the State Council's holiday notice makes some Saturdays and Sundays
// working days, to make up for the weekdays of a long holiday. The calendar
// holds them too, as make-up working days (Holiday.WorksAs: the weekday the
// day stands in for, which the hospital's notice names — 按周一排班): the
// weekly templates publish that weekday's clinics on it instead of the
// day's own, and the complaint deadlines count it as a working day and skip
// the days off (Calendar).

// Holiday is a day of a hospital's calendar: a day off its weekly
// templates publish no clinic on, or, with WorksAs, a make-up working day.
type Holiday struct {
	HospitalID string
	Date       string // YYYY-MM-DD, the hospital's local day
	Name       string
	SetBy      string
	SetAt      time.Time
	// WorksAs is a make-up working day's stand-in weekday (ISO, 1 Monday
	// … 5 Friday); 0 for a day off.
	WorksAs int
}

// HolidayRequest adds a day to a hospital's calendar: its date, its name
// (春节, 国庆节, 国庆调休), and the reason the audit keeps; WorksAs makes it a
// make-up working day (a Saturday or Sunday) run as that weekday.
type HolidayRequest struct {
	Date, Name, Reason string
	WorksAs            int
}

// Calendar is a hospital's calendar by date (YYYY-MM-DD): its days off and
// make-up working days. The nil Calendar is a week of Monday to Friday.
type Calendar map[string]Holiday

// calendarOf indexes a hospital's calendar days by date.
func calendarOf(hs []Holiday) Calendar {
	c := make(Calendar, len(hs))
	for _, h := range hs {
		c[h.Date] = h
	}
	return c
}

// Works says whether day (in its own zone) is a working day: Monday to
// Friday unless it is a day off, and a make-up working day.
func (c Calendar) Works(day time.Time) bool {
	if h, ok := c[day.Format(time.DateOnly)]; ok {
		return h.WorksAs != 0
	}
	wd := day.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays is the time n working days (Works) after t in loc, at t's
// clock time.
func (c Calendar) AddWorkingDays(t time.Time, n int, loc *time.Location) time.Time {
	d := t.In(loc)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.Works(d) {
			n--
		}
	}
	return d
}

// clinicDays is the days of the week from monday (00:00 in the hospital's
// zone) a template's clinic of weekday wd runs on: its own day unless that
// is a day off or a make-up working day (which runs another weekday's
// clinics), and every make-up working day of the week that stands in for
// wd. Without a calendar, its own day.
func (c Calendar) clinicDays(monday time.Time, wd int) []time.Time {
	var days []time.Time
	own := monday.AddDate(0, 0, wd-1)
	if _, off := c[own.Format(time.DateOnly)]; !off {
		days = append(days, own)
	}
	for i := range 7 {
		d := monday.AddDate(0, 0, i)
		if h, ok := c[d.Format(time.DateOnly)]; ok && h.WorksAs == wd && i != wd-1 {
			days = append(days, d)
		}
	}
	return days
}

// weekCalendar reads the calendar of the week from monday at the hospital
// of a template's doctor: none for a doctor or a Monday layoutWeek refuses.
func (s *Service) weekCalendar(ctx context.Context, cat *Catalog, doctorID, monday string) (Calendar, error) {
	doc, ok := cat.Doctor(doctorID)
	week, err := time.Parse(time.DateOnly, monday)
	if !ok || err != nil {
		return nil, nil
	}
	return s.calendar(ctx, doc.HospitalID, monday, week.AddDate(0, 0, 6).Format(time.DateOnly))
}

// calendar reads a hospital's calendar from one day to another (YYYY-MM-DD).
func (s *Service) calendar(ctx context.Context, hospitalID, from, to string) (Calendar, error) {
	hs, err := s.store.Holidays(ctx, hospitalID, from, to)
	if err != nil {
		return nil, err
	}
	return calendarOf(hs), nil
}

// HolidayResult is a day added and what became of the clinics already
// published on it: withdrawn, or kept (something is booked in them: stop
// them, and their patients are told).
type HolidayResult struct {
	Holiday  Holiday
	Sessions BulkResult
}

// The bulk actions: withdraw every session with nothing booked, entered or
// waitlisted (the others are kept, listed); stop every session (停诊: its
// bookings cancelled without penalty, its patients told).
const (
	BulkWithdraw = "withdraw"
	BulkStop     = "stop"
)

// MaxBulkSessions bounds the sessions one bulk request acts on: at about a
// second a stop (close, drain, transaction, rebuild), a request ends within
// the proxies' timeouts. What matches beyond is counted (BulkResult.More)
// and taken by repeating the request: a repeat acts on what is left, since
// a stopped session is not stopped again and a withdrawn one is gone.
const MaxBulkSessions = 100

// MaxBulkDays bounds a bulk request's dates: a Spring Festival with its
// weekends fits.
const MaxBulkDays = 31

// BulkRequest is a bulk withdrawal or stop of a hospital's sessions on
// the dates From to To (inclusive, the hospital's days), of a department or
// a doctor when named. Reason is the stop's (patients are told it) or the
// withdrawal's (the audit keeps it). DryRun acts on nothing: it says what
// each session would come to.
type BulkRequest struct {
	HospitalID, DepartmentID, DoctorID string
	From, To                           string
	Action                             string
	Reason                             string
	DryRun                             bool
}

// The outcomes of a session in a bulk request.
const (
	BulkWithdrawn      = "withdrawn"
	BulkStopped        = "stopped"
	BulkWouldWithdraw  = "would_withdraw"
	BulkWouldStop      = "would_stop"
	BulkKept           = "kept"            // withdraw: something is booked, entered or waitlisted; stop it instead
	BulkAlreadyStopped = "already_stopped" // nothing done: a repeat, or stopped before
	BulkOver           = "over"            // the clinic has ended: nothing done
	BulkRefused        = "refused"         // its own refusal, in Err (edited_meanwhile, …)
	BulkNotDone        = "not_done"        // a failure before it (a dependency down): repeat the request
)

// BulkItem is one session of a bulk request and what became of it.
type BulkItem struct {
	Session *Session
	Version int64 // the version acted at
	Outcome string
	Err     error
	// Booked is what a stop of it would end (or ended), as read before.
	Booked BookedCounts
	// Stop is what its stop undid (Outcome stopped).
	Stop StopResult
}

// BulkResult is a bulk request's sessions in their start order, and how
// many more matched beyond MaxBulkSessions.
type BulkResult struct {
	Items []BulkItem
	More  int
}

// Count counts the items of an outcome.
func (r BulkResult) Count(outcome string) int {
	n := 0
	for _, it := range r.Items {
		if it.Outcome == outcome {
			n++
		}
	}
	return n
}

// BulkStop withdraws or stops a hospital's sessions on a range of dates,
// each through its own path at the version read here, answering each
// session's outcome. A session's refusal (edited meanwhile, booked since the
// dry run) is its own and the others go on; a failure of a dependency ends
// the request there, the rest not_done, to be repeated.
func (s *Service) BulkStop(ctx context.Context, actor Actor, req BulkRequest) (BulkResult, error) {
	if actor.Role != RoleAdmin {
		return BulkResult{}, Errorf(ErrForbidden, "only administrators withdraw or stop clinics")
	}
	cat := s.catalog.Load()
	h, ok := cat.Hospital(req.HospitalID)
	if !ok {
		return BulkResult{}, ErrHospitalNotFound
	}
	if !actor.Covers(h.ID) {
		return BulkResult{}, Errorf(ErrForbidden, "this hospital is not yours")
	}
	switch req.Action {
	case BulkWithdraw, BulkStop:
	default:
		return BulkResult{}, FieldErrorf(ErrInvalidField, "action", "action must be withdraw or stop")
	}
	if err := requireText("reason", req.Reason, 2, "; the audit keeps it, and a stop's patients are told it"); err != nil {
		return BulkResult{}, err
	}
	if err := auditText("reason", req.Reason, 200); err != nil {
		return BulkResult{}, err
	}
	from, err := time.Parse(time.DateOnly, req.From)
	if err != nil {
		return BulkResult{}, FieldErrorf(ErrInvalidField, "from", "from is a date, YYYY-MM-DD")
	}
	to, err := time.Parse(time.DateOnly, req.To)
	if err != nil {
		return BulkResult{}, FieldErrorf(ErrInvalidField, "to", "to is a date, YYYY-MM-DD")
	}
	if to.Before(from) || to.Sub(from) >= MaxBulkDays*24*time.Hour {
		return BulkResult{}, FieldErrorf(ErrInvalidField, "to", "to must be from or later, at most %d days in all", MaxBulkDays)
	}
	if req.DepartmentID != "" {
		if d, ok := cat.Department(req.DepartmentID); !ok || d.HospitalID != h.ID {
			return BulkResult{}, FieldErrorf(ErrInvalidField, "department_id", "no such department in this hospital")
		}
	}
	if req.DoctorID != "" {
		if d, ok := cat.Doctor(req.DoctorID); !ok || d.HospitalID != h.ID {
			return BulkResult{}, FieldErrorf(ErrInvalidField, "doctor_id", "no such doctor in this hospital")
		}
	}
	var matched []*Session
	for _, sess := range cat.HospitalSessions(h.ID) {
		if sess.VisitDate < req.From || sess.VisitDate > req.To ||
			req.DepartmentID != "" && sess.DepartmentID != req.DepartmentID || req.DoctorID != "" && sess.DoctorID != req.DoctorID {
			continue
		}
		matched = append(matched, sess)
	}
	slices.SortFunc(matched, func(a, b *Session) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), strings.Compare(a.ID, b.ID))
	})
	now := s.cfg.Now()
	var res BulkResult
	var act []int // the items acted on, within the bound
	for _, sess := range matched {
		it := BulkItem{Session: sess, Version: sess.Version}
		switch {
		case sess.Stopped():
			it.Outcome = BulkAlreadyStopped
		case !now.Before(sess.EndsAt):
			it.Outcome = BulkOver
		case len(act) == MaxBulkSessions:
			res.More++
			continue
		default:
			act = append(act, len(res.Items))
		}
		res.Items = append(res.Items, it)
	}
	ids := make([]string, len(act))
	for i, k := range act {
		ids[i] = res.Items[k].Session.ID
	}
	booked, err := s.store.BookedCounts(ctx, ids)
	if err != nil {
		return BulkResult{}, err
	}
	failed := false
	for _, k := range act {
		it := &res.Items[k]
		it.Booked = booked[it.Session.ID]
		switch {
		case failed:
			it.Outcome = BulkNotDone
		case req.DryRun && req.Action == BulkStop:
			it.Outcome = BulkWouldStop
		case req.DryRun:
			it.Outcome = BulkWouldWithdraw
			if it.Booked.Total() > 0 || it.Booked.Waiting > 0 || it.Booked.Entries > 0 {
				it.Outcome = BulkKept
			}
		case req.Action == BulkStop:
			it.Stop, it.Err = s.Stop(ctx, actor, it.Session.ID, StopRequest{Reason: req.Reason, Version: it.Version})
			it.Outcome = BulkStopped
		default:
			it.Err = s.withdraw(ctx, actor, it.Session.ID, it.Version, "bulk withdrawal "+req.From+"…"+req.To+": "+req.Reason)
			it.Outcome = BulkWithdrawn
		}
		if it.Err == nil {
			continue
		}
		var de *Error
		switch {
		case errors.Is(it.Err, ErrSessionReleased):
			it.Outcome = BulkKept
		case errors.Is(it.Err, ErrSessionStopped) || errors.Is(it.Err, ErrStoppedUnchangeable):
			it.Outcome, it.Err = BulkAlreadyStopped, nil
		case errors.As(it.Err, &de) && de.Kind != KindInternal && de.Kind != KindUnavailable:
			it.Outcome = BulkRefused
		default:
			s.log.Warn("bulk stop: a session failed; the rest not done", "session_id", it.Session.ID, "err", it.Err)
			it.Outcome, failed = BulkNotDone, true
		}
	}
	if !req.DryRun {
		s.log.Info("bulk "+req.Action, "hospital_id", h.ID, "from", req.From, "to", req.To, "withdrawn", res.Count(BulkWithdrawn),
			"stopped", res.Count(BulkStopped), "kept", res.Count(BulkKept), "refused", res.Count(BulkRefused), "not_done", res.Count(BulkNotDone),
			"more", res.More)
	}
	return res, nil
}

// Holidays lists a hospital's holidays from one date to another
// (inclusive), for its administrators.
func (s *Service) Holidays(ctx context.Context, actor Actor, hospitalID, from, to string) ([]Holiday, error) {
	if err := s.holidayAdmin(actor, hospitalID); err != nil {
		return nil, err
	}
	for _, d := range []struct{ field, v string }{{"from", from}, {"to", to}} {
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return nil, FieldErrorf(ErrInvalidField, d.field, "%s is a date, YYYY-MM-DD", d.field)
		}
	}
	return s.store.Holidays(ctx, hospitalID, from, to)
}

// SetHoliday adds a day to a hospital's calendar (or renames it), then
// withdraws the clinics already published on it with nothing booked,
// entered or waitlisted (BulkStop's withdrawal, its reason the holiday's);
// those it keeps are in the answer, for a stop.
func (s *Service) SetHoliday(ctx context.Context, actor Actor, hospitalID string, req HolidayRequest) (HolidayResult, error) {
	if err := s.holidayAdmin(actor, hospitalID); err != nil {
		return HolidayResult{}, err
	}
	h, _ := s.catalog.Load().Hospital(hospitalID)
	day, err := time.Parse(time.DateOnly, req.Date)
	if err != nil {
		return HolidayResult{}, FieldErrorf(ErrInvalidField, "date", "date is a date, YYYY-MM-DD")
	}
	now := s.cfg.Now()
	if req.Date < now.In(h.Location()).Format(time.DateOnly) {
		return HolidayResult{}, FieldErrorf(ErrInvalidField, "date", "the day has passed")
	}
	if day.After(scheduleHorizon(now, h.Location())) {
		return HolidayResult{}, FieldErrorf(ErrInvalidField, "date", "the day is beyond the schedule's horizon (%d days)", ScheduleHorizonDays)
	}
	name := strings.TrimSpace(req.Name)
	if err := requireText("name", name, 2, "; the console shows it"); err != nil {
		return HolidayResult{}, err
	}
	if err := auditText("name", name, 40); err != nil {
		return HolidayResult{}, err
	}
	if err := auditText("reason", req.Reason, 200); err != nil {
		return HolidayResult{}, err
	}
	summary := name
	if req.WorksAs != 0 {
		if req.WorksAs < 1 || req.WorksAs > 5 {
			return HolidayResult{}, FieldErrorf(ErrInvalidField, "works_as", "a make-up working day runs as a weekday, 1 (Monday) to 5 (Friday)")
		}
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return HolidayResult{}, FieldErrorf(ErrInvalidField, "works_as", "a make-up working day is a Saturday or a Sunday; %s is a %s", req.Date, wd)
		}
		summary += fmt.Sprintf(" (a working day, run as %s)", time.Weekday(req.WorksAs))
	}
	hol := Holiday{HospitalID: hospitalID, Date: req.Date, Name: name, SetBy: actor.AccountID, SetAt: now, WorksAs: req.WorksAs}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "holiday_set",
		Target: "holiday:" + req.Date, HospitalID: hospitalID, Reason: strings.TrimSuffix(summary+"; "+req.Reason, "; ")}
	if err := s.store.SetHoliday(ctx, hol, audit); err != nil {
		return HolidayResult{}, err
	}
	if hol.WorksAs != 0 {
		// A working day withdraws nothing: what the hospital published on
		// it already stays (its weekend clinics, or the weekday's, added
		// one by one), and a template applied from now on lays it out.
		return HolidayResult{Holiday: hol}, nil
	}
	res, err := s.BulkStop(ctx, actor, BulkRequest{HospitalID: hospitalID, From: req.Date, To: req.Date, Action: BulkWithdraw,
		Reason: "holiday " + name})
	if err != nil {
		return HolidayResult{}, err
	}
	return HolidayResult{Holiday: hol, Sessions: res}, nil
}

// DeleteHoliday takes a day off a hospital's calendar: its templates
// publish on it again (what was withdrawn is not brought back).
func (s *Service) DeleteHoliday(ctx context.Context, actor Actor, hospitalID, date, reason string) error {
	if err := s.holidayAdmin(actor, hospitalID); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return FieldErrorf(ErrInvalidField, "date", "date is a date, YYYY-MM-DD")
	}
	if err := requireText("reason", reason, 2, "; the audit keeps it"); err != nil {
		return err
	}
	if err := auditText("reason", reason, 200); err != nil {
		return err
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "holiday_delete",
		Target: "holiday:" + date, HospitalID: hospitalID, Reason: reason}
	return s.store.DeleteHoliday(ctx, hospitalID, date, audit)
}

func (s *Service) holidayAdmin(actor Actor, hospitalID string) error {
	if actor.Role != RoleAdmin {
		return Errorf(ErrForbidden, "only administrators keep the holiday calendar")
	}
	if _, ok := s.catalog.Load().Hospital(hospitalID); !ok {
		return ErrHospitalNotFound
	}
	if !actor.Covers(hospitalID) {
		return Errorf(ErrForbidden, "this hospital is not yours")
	}
	return nil
}

// HolidayNames is the calendar's days as the console says them: "2026-10-01 国庆节".
func HolidayNames(hs []Holiday) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = fmt.Sprintf("%s %s", h.Date, h.Name)
	}
	return strings.Join(out, ", ")
}
