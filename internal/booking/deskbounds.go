package booking

import (
	"context"
	"time"
)

// The desk's bounds (review25 H2, H3). The call centre's insider
// (review23) was bounded by a pace (callerbounds.go); the registration
// clerk, with the same powers, was bounded by nothing: one clerk added 20
// extra slots and filled 12 of them with invented walk-ins in 15 seconds,
// and cancelled a scalper's booking to book the buyer into its slot in the
// same second.
//
//   - A clerk's day has a budget, counted as the operator's pace is (one
//     rule, staffBudget: the staff member's audit entries of some actions
//     in a window, 429 past it): Config.ClerkWalkInsPerDay walk-ins
//     (desk_booking, desk_lottery_entry), 200 by default — a window that
//     serves a patient every two minutes for the whole working day — and
//     Config.ClerkExtraSlotsPerDay extra slots (extra_slots), 10 by
//     default: a 加号 is a doctor's exception, a few a clinic.
//   - A slot the desk frees is not the clerk's to fill (freedSlotWait): the
//     clerk who cancelled or reissued a booking of a session books no
//     walk-in into it for Config.FreedSlotWait (15 minutes by default);
//     the slot itself goes the way of any returned slot, the waitlist
//     first, else held for the waitlist's round or its random delay
//     (placeOnsite), so another window's walk-in gets it when it comes
//     back, at a moment nobody picked.

// Default desk bounds (Config.ClerkWalkInsPerDay, Config.ClerkExtraSlotsPerDay,
// Config.FreedSlotWait).
const (
	DefaultClerkWalkInsPerDay    = 200
	DefaultClerkExtraSlotsPerDay = 10
	DefaultFreedSlotWait         = 15 * time.Minute
)

// ErrClerkDayLimit refuses a clerk's walk-in or extra slot past the day's
// budget.
var ErrClerkDayLimit = newErr(KindRateLimited, "clerk_day_limit",
	"this clerk has booked as many walk-ins, or added as many extra slots, today as a registration window does; another clerk serves the patient")

// ErrFreedSlotWait refuses a clerk's walk-in into a session in which the
// same clerk freed a booked slot minutes ago.
var ErrFreedSlotWait = newErr(KindRateLimited, "freed_slot_wait",
	"this clerk freed a booked slot of this session minutes ago: the slot goes to the waitlist and back to the desk at a moment nobody picks; another window books this walk-in")

// deskWalkInActions and deskExtraActions are the audit actions the
// clerk's day budgets count.
var (
	deskWalkInActions = []string{"desk_booking", "desk_lottery_entry"}
	deskExtraActions  = []string{"extra_slots"}
)

// staffBudget is the one bound of a staff member's acts: at most limit
// audit entries of actions since since, else refusal (a *LimitError
// answered 429 with Retry-After wait). The operator's hourly pace and
// the clerk's daily budgets are this rule.
func (s *Service) staffBudget(ctx context.Context, actor Actor, since time.Time, limit int, wait time.Duration, refusal func(n int) *Error, actions ...string) error {
	n, err := s.store.StaffActionsSince(ctx, actor.AccountID, since, actions...)
	if err != nil {
		return err
	}
	if n >= limit {
		return &LimitError{Wait: wait, Err: refusal(n)}
	}
	return nil
}

// clerkDay holds a clerk's act to the day's budget of actions: the
// hospital's day of now (h's calendar).
func (s *Service) clerkDay(ctx context.Context, actor Actor, h *Hospital, limit int, what string, actions ...string) error {
	if actor.Role != RoleClerk {
		return nil
	}
	loc := chinaStandardTime
	if h != nil {
		loc = h.Location()
	}
	now := s.cfg.Now()
	y, m, d := now.In(loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return s.staffBudget(ctx, actor, midnight, limit, midnight.AddDate(0, 0, 1).Sub(now), func(n int) *Error {
		return Errorf(ErrClerkDayLimit, "this clerk has made %d %s today, as many as a registration window makes in a day (at most %d); another clerk serves the patient",
			n, what, limit)
	}, actions...)
}

// freedSlotWait refuses a clerk's walk-in into session sess while the
// clerk freed a booked slot of it within Config.FreedSlotWait.
func (s *Service) freedSlotWait(ctx context.Context, actor Actor, sess *Session) error {
	if actor.Role != RoleClerk {
		return nil
	}
	now := s.cfg.Now()
	last, err := s.store.StaffFreedSince(ctx, actor.AccountID, sess.ID, now.Add(-s.cfg.FreedSlotWait))
	if err != nil || last.IsZero() {
		return err
	}
	until := last.Add(s.cfg.FreedSlotWait)
	return &LimitError{Wait: max(time.Second, until.Sub(now)), Err: Errorf(ErrFreedSlotWait,
		"this clerk freed a booked slot of this session at %s: for %d minutes after, another window books its walk-ins; the slot goes to the waitlist first and back to the desk at a moment nobody picks",
		last.In(chinaStandardTime).Format("15:04:05"), int(s.cfg.FreedSlotWait/time.Minute))}
}
