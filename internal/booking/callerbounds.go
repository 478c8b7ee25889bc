package booking

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fairslot/internal/identity"
)

// The phone channel's bounds (review23 H1, H3). An account is bounded by
// its family (AccountLimits.MaxPatients persons) and a number by the
// accounts it serves; the phone channel has no account, so an operator
// acting "for callers" was bounded by nothing: one operator booked a day's
// whole phone pool for 48 invented people, all "ringing" from one number.
// Two bounds stand in for the account's:
//
//   - A caller number is one household calling. Staff book, enter or
//     waitlist at most as many different persons a day on calls from one
//     number as an account holds patients (the account limits in force,
//     5 by default), counted over every operator of the platform: a
//     family rings the line for its own, as it books online for its own.
//     A person already counted for the number that day is not counted
//     again. A carer or a nursing home books its residents through the
//     referral channel (its own bounds), not the phone line.
//   - An operator works at a human pace. A call takes two or three
//     minutes — 20 to 30 calls an hour, most for one person, a few for two
//     — so an operator makes at most Config.OperatorActsPerHour bookings,
//     draw entries and waitlist places (phone_booking, phone_lottery_entry,
//     phone_waitlist audit entries) in any hour, 60 by default: twice
//     what the busiest release morning asks, and far from the 48 in 2½
//     minutes of a script.
//
// Both are read before admission, so two requests of one operator for one
// number racing each other may pass one person over the bound: an insider
// gains one person, and the detector (caller_persons) still sees them.

// ErrCallerPersonsLimit refuses a staff booking, draw entry or waitlist
// place for a new person on a call from a number that staff acted for the
// most persons a family holds today.
var ErrCallerPersonsLimit = newErr(KindRule, "caller_persons_limit",
	"calls from this number have booked, entered or waitlisted as many different persons today as an account may list: a household rings for its own; a carer books residents through the referral channel")

// ErrOperatorPaceLimit refuses an operator past the bookings, draw entries
// and waitlist places a person answering calls makes in an hour.
var ErrOperatorPaceLimit = newErr(KindRateLimited, "operator_pace_limit",
	"this operator made as many phone bookings, draw entries and waitlist places in the past hour as calls allow; another operator takes the call")

// DefaultOperatorActsPerHour is Config.OperatorActsPerHour's default.
const DefaultOperatorActsPerHour = 60

// staffPhoneActions are the audit actions of what an operator does for a
// caller: what the pace bound counts.
var staffPhoneActions = []string{"phone_booking", "phone_lottery_entry", "phone_waitlist"}

// callerBounds holds an operator's booking, entry or waitlist place for
// person (empty: not known yet) on a call from phoneRef to the two bounds.
func (s *Service) callerBounds(ctx context.Context, actor Actor, h *Hospital, phoneRef, person string) error {
	now := s.cfg.Now()
	if actor.Role == RoleOperator {
		if err := s.staffBudget(ctx, actor, now.Add(-time.Hour), s.cfg.OperatorActsPerHour, time.Minute, func(n int) *Error {
			return Errorf(ErrOperatorPaceLimit,
				"this operator made %d phone bookings, draw entries and waitlist places in the past hour, the most a person answering calls makes; another operator takes the call", n)
		}, staffPhoneActions...); err != nil {
			return err
		}
	}
	loc := chinaStandardTime
	if h != nil {
		loc = h.Location()
	}
	y, m, d := now.In(loc).Date()
	persons, err := s.store.CallerPersonsSince(ctx, phoneRef, time.Date(y, m, d, 0, 0, 0, 0, loc))
	if err != nil {
		return err
	}
	if person != "" && slices.Contains(persons, person) {
		return nil
	}
	limits, err := s.accountLimits(ctx, now)
	if err != nil {
		return err
	}
	if len(persons) >= limits.MaxPatients {
		return Errorf(ErrCallerPersonsLimit, "calls from this number have booked, entered or waitlisted %d different persons today, as many as an account may list: a household rings for its own; a carer books residents through the referral channel", len(persons))
	}
	return nil
}

// callerTag names a caller number in a staff audit entry: masked, with a
// short tag of its keyed hash, so that an administrator reading the audit
// sees one number behind many bookings (the same tag) and nobody reads the
// number (the tag is keyed: it cannot be computed from a guess without the
// service's key).
func (s *Service) callerTag(phone string) string {
	p, err := callerLine(phone)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s #%s", identity.MaskPhone(p), IdentityKey(s.keys.Hash("phone", p))[:8])
}

// callerLine is the line a caller rings from (identity.NormalizeCallerPhone:
// a mobile, or a landline with its area code, review23 M1) without an
// extension: what keyed hashes, caller tags and masks name, so a landline
// rung from with and without its extension is one number. The extension is
// kept only with the number a call back dials (keepCallerPhone).
func callerLine(phone string) (string, error) {
	p, err := identity.NormalizeCallerPhone(phone)
	if err != nil {
		return "", Errorf(ErrInvalidPhone, "the caller's number is neither a mainland mobile nor a landline with its area code (010-65123456)")
	}
	return identity.CallerLine(p), nil
}
