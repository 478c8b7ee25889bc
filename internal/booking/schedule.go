package booking

import (
	"context"
	"math"
	"time"
)

// SessionView is a session as a patient browses it: the catalog entry plus
// the live count of free slots per channel.
type SessionView struct {
	*Session
	Remaining map[Channel]int
	// Held is how many of the session's slots are held for its waitlist's
	// round (returned, or left by a lottery draw), and RoundEnds when that
	// round ends: they go to those in line then, not to the pool, so a
	// session with none free but some held is not sold out. Filled in by
	// WaitlistHolds.
	Held      int
	RoundEnds time.Time
}

// Sessions lists a hospital's sessions on a date (and in a department) with
// their remaining slots. An empty date lists every upcoming session; a
// department that is not the hospital's is ErrDepartmentNotFound.
func (s *Service) Sessions(ctx context.Context, hospitalID, date, departmentID string) ([]SessionView, error) {
	cat := s.catalog.Load()
	if _, ok := cat.Hospital(hospitalID); !ok {
		return nil, ErrHospitalNotFound
	}
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, ErrInvalidDate
		}
	}
	if departmentID != "" {
		// An unknown department (or another hospital's) is not one with no
		// sessions: the caller asked for something that is not there.
		if d, ok := cat.Department(departmentID); !ok || d.HospitalID != hospitalID {
			return nil, ErrDepartmentNotFound
		}
	}
	if err := s.stateWhole(hospitalID); err != nil {
		return nil, err // the free counts in Redis are not to be trusted
	}
	list := cat.Sessions(hospitalID, date, departmentID)
	if len(list) == 0 {
		return []SessionView{}, nil
	}
	rem, err := s.adm.Remaining(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, len(list))
	for i, ss := range list {
		out[i] = SessionView{Session: ss, Remaining: rem[i]}
	}
	return out, nil
}

// WaitlistHolds fills in Held and RoundEnds of the views with a pool that
// has none free: sold out, or holding slots for the waitlist's round (what
// a draw left, returned slots), which the consoles tell apart (review15
// L1). One Redis round trip, and none when nothing is sold out; the API's
// session list does not ask it.
func (s *Service) WaitlistHolds(ctx context.Context, views []SessionView) error {
	var soldOut []int
	var asked []*Session
	for i, v := range views {
		for _, n := range v.Remaining {
			if n <= 0 {
				soldOut, asked = append(soldOut, i), append(asked, v.Session)
				break
			}
		}
	}
	if len(asked) == 0 {
		return nil
	}
	held, err := s.adm.HeldForWaitlist(ctx, asked)
	if err != nil {
		return err
	}
	for j, i := range soldOut {
		views[i].Held, views[i].RoundEnds = held[j].Slots, held[j].Until
	}
	return nil
}

// Hospital finds a hospital in the catalog.
func (s *Service) Hospital(id string) (*Hospital, error) {
	h, ok := s.catalog.Load().Hospital(id)
	if !ok {
		return nil, ErrHospitalNotFound
	}
	return h, nil
}

// SaveSchedule stores new hospitals and sessions, then refreshes the catalog
// so they are bookable at once.
func (s *Service) SaveSchedule(ctx context.Context, sch Schedule) error {
	if err := s.store.SaveSchedule(ctx, sch); err != nil {
		return err
	}
	_, err := s.Refresh(ctx)
	return err
}

// SessionSpec describes a clinic session to lay out.
type SessionSpec struct {
	ID           string // empty: a new id
	HospitalID   string
	DepartmentID string
	DoctorID     string
	VisitDate    string
	Period       string
	StartsAt     time.Time
	EndsAt       time.Time
	Mode         ReleaseMode    // the mode of every pool whose own Mode is empty
	Quotas       []ChannelQuota // one pool per channel, laid out in this order
}

// DefaultDrawAfter is how long a lottery pool's entry window stays open when
// the schedule does not say: from its opening (by default its release time)
// to its draw.
const DefaultDrawAfter = 10 * time.Minute

// BuildSession lays out a session's slots: the quotas' slots in order, each
// an equal share of the session's time.
func BuildSession(spec SessionSpec) (Session, error) {
	if !spec.EndsAt.After(spec.StartsAt) {
		return Session{}, FieldErrorf(ErrInvalidField, "end", "a session needs an end after its start")
	}
	// Each slot needs at least a minute: a quota, or the quotas together,
	// beyond the session's minutes cannot fit. Checked as they are added,
	// so no sum of huge quotas can wrap around into a small one.
	fits := int(min(spec.EndsAt.Sub(spec.StartsAt)/time.Minute, math.MaxInt32))
	total := 0
	seen := map[Channel]bool{}
	for _, q := range spec.Quotas {
		if _, err := ParseChannel(string(q.Channel)); err != nil {
			return Session{}, err
		}
		if seen[q.Channel] || q.Quota < 0 {
			return Session{}, Errorf(ErrInvalidField, "each channel once, with a quota of 0 or more")
		}
		seen[q.Channel] = true
		if q.Quota > fits-total {
			return Session{}, FieldErrorf(ErrInvalidField, string(q.Channel), "more slots than fit: each slot needs at least a minute, and the session has %d", fits)
		}
		total += q.Quota
	}
	if total == 0 {
		return Session{}, FieldErrorf(ErrInvalidField, string(ChannelOnline), "a session needs slots")
	}
	if _, err := time.Parse(time.DateOnly, spec.VisitDate); err != nil {
		return Session{}, ErrInvalidDate
	}
	mode := spec.Mode
	if mode == "" {
		mode = FirstCome
	}
	quotas, sessionMode, err := lotteryWindows(spec.Quotas, mode, spec.StartsAt)
	if err != nil {
		return Session{}, err
	}
	s := Session{
		ID: spec.ID, HospitalID: spec.HospitalID, DepartmentID: spec.DepartmentID, DoctorID: spec.DoctorID,
		VisitDate: spec.VisitDate, Period: spec.Period, StartsAt: spec.StartsAt, EndsAt: spec.EndsAt,
		Mode: sessionMode, Channels: quotas,
	}
	if s.ID == "" {
		s.ID = newID()
	}
	// Whole seconds: SQL keeps microseconds, and a slot time must read back
	// exactly as it was laid out.
	step := (spec.EndsAt.Sub(spec.StartsAt) / time.Duration(total)).Truncate(time.Second)
	if step < time.Minute {
		return Session{}, Errorf(ErrInvalidField, "%d slots do not fit: each slot needs at least a minute", total)
	}
	n := 0
	for _, q := range spec.Quotas {
		for range q.Quota {
			start := spec.StartsAt.Add(time.Duration(n) * step)
			n++
			s.Slots = append(s.Slots, Slot{No: n, Channel: q.Channel, StartsAt: start, EndsAt: start.Add(step)})
		}
	}
	return s, nil
}

// lotteryWindows gives every pool its release mode (its own, else mode) and
// every lottery pool its entry window: opening at its release time and
// drawing DefaultDrawAfter later unless the schedule says otherwise. The
// draw must come before the session starts. It returns the pools and the
// session's mode: lottery when any pool is one.
func lotteryWindows(in []ChannelQuota, mode ReleaseMode, startsAt time.Time) ([]ChannelQuota, ReleaseMode, error) {
	out := make([]ChannelQuota, len(in))
	session := FirstCome
	for i, q := range in {
		if q.Mode == "" {
			q.Mode = mode
		}
		switch q.Mode {
		case FirstCome:
			q.OpensAt, q.DrawAt = time.Time{}, time.Time{}
		case Lottery:
			session = Lottery
			if q.OpensAt.IsZero() {
				q.OpensAt = q.ReleaseAt
			}
			if q.DrawAt.IsZero() {
				q.DrawAt = q.OpensAt.Add(DefaultDrawAfter)
			}
			if !q.DrawAt.After(q.OpensAt) {
				return nil, "", Errorf(ErrInvalidField, "the %s lottery must draw after its window opens", q.Channel)
			}
			if !q.DrawAt.Before(startsAt) {
				return nil, "", Errorf(ErrInvalidField, "the %s lottery must draw before the session starts", q.Channel)
			}
		default:
			return nil, "", Errorf(ErrInvalidField, "release mode %q is not first_come or lottery", q.Mode)
		}
		out[i] = q
	}
	return out, session, nil
}
