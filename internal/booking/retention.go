package booking

import (
	"context"
	"fmt"
	"time"
)

// Retention of what is kept only to call a person back (callback.go). The
// number a phone call that made a booking, waitlist place or lottery entry
// came from, and a walk-in's contact number (caller_phones), are kept for
// one reason: to ring that person about that item when something happens
// while they are not on the line. The call-back rows (notifications marked
// call_back) are kept for the same calls. Neither is the person's record —
// their bookings, the events and the audit are, and stay — so both go once
// no call can be needed any more, plus a grace:
//
//   - the item's session's day has passed (in every hospital's zone: the
//     cutoff takes the earliest "today" of the catalog's hospitals, so no
//     zone loses a day), and with it everything a call back is for: a stop,
//     a returned slot, a draw, a review all happen before the visit;
//   - no substitute's slot (替诊) offered in place of the item is still held
//     for an answer, and the offer's answer or lapse is older than the grace;
//   - no call-back row about the item is left (the rows go first, by the
//     same rule on the row's session, offer and last call);
//   - the grace, Config.CallBackGrace (30 days by default), is the time for
//     a complaint about a call ("nobody rang me", "you rang someone else")
//     to be raised and looked into while the number the row held can still
//     be checked (the consoles open no number of a row that is over: only
//     an investigation with the master key can). Past it the audit entries
//     (who rang, when, the outcome, the masked number) are the record; the
//     sealed bytes are deleted, not masked.
//
// One exclusive job runs it (retention, every hour, under its lease) in
// bounded batches, so a first run over a long-kept table holds no lock for
// long; a run that stops at its bound is taken on at the next.

// DefaultCallBackGrace is Config.CallBackGrace's default.
const DefaultCallBackGrace = 30 * 24 * time.Hour

// Purge batches: a statement deletes at most purgeBatch rows, a run at most
// purgeBatches statements of each kind (100,000 rows); the next run goes
// on where it stopped.
const (
	purgeBatch   = 500
	purgeBatches = 200
)

// CallBackCutoff is the retention rule's line at one run: what is before
// it is past its need and its grace.
type CallBackCutoff struct {
	// Day: a session whose day (YYYY-MM-DD) is before Day passed more than
	// the grace ago in every hospital's zone.
	Day string
	// Before: an offer answered or lapsed, a call made, a row written or a
	// number kept before Before happened more than the grace ago.
	Before time.Time
}

// RetentionStore deletes what the retention rule says is past its need.
type RetentionStore interface {
	// PurgeCallBacks deletes at most limit call-back rows (notifications
	// marked call_back) whose session's day is before cut.Day, with no
	// substitute's slot offered from their booking still held or answered
	// since cut.Before, written and last called before cut.Before; it
	// returns how many it deleted.
	PurgeCallBacks(ctx context.Context, cut CallBackCutoff, limit int) (int, error)
	// PurgeCallerPhones deletes at most limit numbers kept to call back
	// (caller_phones) kept before cut.Before whose item's session's day is
	// before cut.Day (or whose item is gone), with no substitute's slot
	// offered in place of the item still held or answered since
	// cut.Before, and no call-back row about the item left; it returns how
	// many it deleted.
	PurgeCallerPhones(ctx context.Context, cut CallBackCutoff, limit int) (int, error)
}

// Purged counts what a retention run deleted.
type Purged struct {
	CallBacks    int // call-back rows
	CallerPhones int // numbers kept to call back (sealed and masked)
}

// callBackCutoff is the rule's line as of now: the earliest of the
// hospitals' dates today, less the grace in whole days (rounded up), and
// now less the grace.
func (s *Service) callBackCutoff() CallBackCutoff {
	now, grace := s.cfg.Now(), s.cfg.CallBackGrace
	today := now.In(StandInLocation()).Format(time.DateOnly)
	for i, h := range s.catalog.Load().Hospitals() {
		if d := now.In(h.Location()).Format(time.DateOnly); i == 0 || d < today {
			today = d
		}
	}
	days := int((grace + 24*time.Hour - 1) / (24 * time.Hour))
	d, _ := time.Parse(time.DateOnly, today) // formatted above
	return CallBackCutoff{Day: d.AddDate(0, 0, -days).Format(time.DateOnly), Before: now.Add(-grace)}
}

// PurgeCallBacks deletes the call-back rows and then the numbers kept to
// call back that the retention rule says are past their need (above), in
// batches, at most purgeBatches of each per run. It is idempotent: a run
// after another finds nothing more until time moves on. Counted in
// Stats (CallBacksPurged, CallerPhonesPurged); the log line names counts
// and the cutoff, never a number or a person.
func (s *Service) PurgeCallBacks(ctx context.Context) (Purged, error) {
	cut := s.callBackCutoff()
	var p Purged
	var err error
	// The rows first: a number goes once no row about its item is left.
	p.CallBacks, err = purgeInBatches(ctx, func(ctx context.Context) (int, error) {
		return s.store.PurgeCallBacks(ctx, cut, purgeBatch)
	})
	s.stats.callBacksPurged.Add(uint64(p.CallBacks))
	if err == nil {
		p.CallerPhones, err = purgeInBatches(ctx, func(ctx context.Context) (int, error) {
			return s.store.PurgeCallerPhones(ctx, cut, purgeBatch)
		})
		s.stats.callerPhonesPurged.Add(uint64(p.CallerPhones))
	}
	if p.CallBacks > 0 || p.CallerPhones > 0 {
		s.log.Info("purged call-back data past retention", "call_backs", p.CallBacks, "caller_phones", p.CallerPhones,
			"sessions_before", cut.Day)
	}
	if err != nil {
		return p, fmt.Errorf("purge call-back data before %s: %w", cut.Day, err)
	}
	return p, nil
}

// purgeInBatches runs one batch after another until a batch deletes fewer
// than purgeBatch rows, purgeBatches ran, or ctx ends; it returns how many
// rows they deleted.
func purgeInBatches(ctx context.Context, batch func(context.Context) (int, error)) (int, error) {
	total := 0
	for range purgeBatches {
		n, err := batch(ctx)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
	return total, nil
}
