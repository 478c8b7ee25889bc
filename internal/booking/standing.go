package booking

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// A hospital's rules as a patient meets them, generated from what the
// service enforces (its policy in effect, the no-show rules, the release
// times of its published sessions), and a patient's own standing under them.
// The consoles show both before the fact, so a bar or a late cancellation is
// never a surprise.

// HospitalRules are the rules a hospital's patients book under.
type HospitalRules struct {
	Hospital       *Hospital
	Policy         Policy // in effect now
	CancelDeadline string // "15:00" the day before the visit, in effect now
	// Next is the administrator's next policy change, when one is set.
	Next    *PolicyChange
	NoShows NoShowRules
	// Releases are the usual release times of the hospital's upcoming
	// sessions, one per channel and mode, the most frequent first.
	Releases []ReleasePattern
}

// ReleasePattern is how a channel's slots are usually released: DaysBefore
// days before the visit at Clock (local "08:00"), first-come or by lottery.
type ReleasePattern struct {
	Channel    Channel
	Mode       ReleaseMode
	DaysBefore int
	Clock      string
	Sessions   int // upcoming sessions released this way
}

// Rules are the rules of a hospital, for anyone (the patient console shows
// them without a login).
func (s *Service) Rules(hospitalID string) (HospitalRules, error) {
	cat := s.catalog.Load()
	h, ok := cat.Hospital(hospitalID)
	if !ok {
		return HospitalRules{}, ErrHospitalNotFound
	}
	now := s.cfg.Now()
	r := HospitalRules{Hospital: h, Policy: s.policyOf(h, now)}
	_, r.CancelDeadline = h.PolicyAt(now)
	r.NoShows = r.Policy.NoShows
	for _, c := range h.Changes {
		if c.EffectiveFrom.After(now) {
			r.Next = &c
			break
		}
	}
	r.Releases = releasePatterns(h, cat.HospitalSessions(hospitalID), now)
	return r, nil
}

// releasePatterns counts how the pools of sessions not yet visited are
// released, in the hospital's zone: by channel in the order of Channels, the
// most frequent first.
func releasePatterns(h *Hospital, sessions []*Session, now time.Time) []ReleasePattern {
	loc := h.Location()
	type key struct {
		ch    Channel
		mode  ReleaseMode
		days  int
		clock string
	}
	count := map[key]int{}
	for _, s := range sessions {
		if s.Stopped() || !s.EndsAt.After(now) {
			continue
		}
		visit, err := time.ParseInLocation(time.DateOnly, s.VisitDate, loc)
		if err != nil {
			continue
		}
		for _, q := range s.Channels {
			at := q.ReleaseAt.In(loc)
			if q.Mode == Lottery {
				at = q.OpensAt.In(loc)
			}
			day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, loc)
			days := int(visit.Sub(day).Hours()/24 + 0.5)
			count[key{q.Channel, cmp.Or(q.Mode, FirstCome), days, at.Format("15:04")}]++
		}
	}
	out := make([]ReleasePattern, 0, len(count))
	for k, n := range count {
		out = append(out, ReleasePattern{Channel: k.ch, Mode: k.mode, DaysBefore: k.days, Clock: k.clock, Sessions: n})
	}
	slices.SortFunc(out, func(a, b ReleasePattern) int {
		return cmp.Or(cmp.Compare(slices.Index(Channels[:], a.Channel), slices.Index(Channels[:], b.Channel)), cmp.Compare(b.Sessions, a.Sessions),
			cmp.Compare(a.DaysBefore, b.DaysBefore), cmp.Compare(a.Clock, b.Clock), cmp.Compare(a.Mode, b.Mode))
	})
	return out
}

// Standing is a patient's record under the no-show rules.
type Standing struct {
	Patient Patient
	// NoShows counts the no-shows and late cancellations of the patient's
	// identity whose visit falls in the rules' window.
	NoShows int
	// BarredUntil is the end of a bar for no-shows in force (zero: none);
	// BlockedUntil the end of a block after a confirmed scalper review.
	BarredUntil, BlockedUntil time.Time
	// Next is the next step the record would reach (nil past the last).
	Next *NoShowStep
}

// Standings are the actor's patients' records: every member of the family,
// since a no-show counts against the person, whoever booked. The window
// counted and the next step are those of hospitalID's rules in force now
// (the record counts no-shows everywhere; the bar is the hospital's where
// the next one happens), or the defaults for "".
func (s *Service) Standings(ctx context.Context, actor Actor, hospitalID string) ([]Standing, error) {
	if actor.Role != RolePatient {
		return nil, Errorf(ErrForbidden, "only patients have a family record")
	}
	ps, err := s.Patients(ctx, actor)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.IdentityID
	}
	now := s.cfg.Now()
	rules := s.cfg.NoShowRules
	if hospitalID != "" {
		rules = s.noShowRules(hospitalID, now)
	}
	recs, err := s.store.NoShowRecords(ctx, ids, now.Add(-rules.Window), now)
	if err != nil {
		return nil, err
	}
	out := make([]Standing, len(ps))
	for i, p := range ps {
		rec := recs[p.IdentityID]
		out[i] = Standing{Patient: p, NoShows: rec.NoShows, BarredUntil: rec.BarredUntil, BlockedUntil: rec.BlockedUntil}
		for _, st := range rules.Steps {
			if st.Count > rec.NoShows {
				out[i].Next = &st
				break
			}
		}
	}
	return out, nil
}

// NoShowRecord is what SQL holds of one identity's standing.
type NoShowRecord struct {
	NoShows                   int
	BarredUntil, BlockedUntil time.Time
}
