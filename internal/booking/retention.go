package booking

import (
	"context"
	"fmt"
	"sync/atomic"
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
//
// The same job erases (sets NULL or empty, the row stays) what other rows
// keep of a phone number or a name past its need (session 17; the choices,
// each with its reason, are in docs/security.md, "Retention"):
//
//   - a family member the account removed (0023's soft delete): the number
//     the account gave for them (sealed, masked) and the name it gave
//     (sealed), Config.CallBackGrace after the removal. Its keyed hash goes
//     at the removal itself (RemovePatient): nothing may find a removed
//     member by it any more (the caller lookup passes removed rows by). The
//     row, its identity (what quotas and bans count), its masked name and
//     name hash stay: the bookings and the audit name the row, and the
//     account's history shows whose visits they were.
//   - an event's phone reference (the keyed hash of a caller's or an
//     account's number) once the event is older than the detection window
//     and the grace, whichever is longer, and its session's day (if it has
//     one) passed that long ago: the detector and the flags' evidence read
//     events of the window only, and a call from the number has a say only
//     in bookings from yesterday on (BookingsOfCaller). The event stays.
//   - the number a report (举报) says a slot was offered from (keyed hash and
//     mask) once the case is closed, closed more than the grace ago, filed
//     before the detection window, and no flag it supports is still open.
//     The case stays.
//
// Session 23 (review21 M7) adds what had no rule:
//
//   - notifications: an account's, 30 days after the account closed
//     (ClosedNotificationRetention: its closing's questions are answered by
//     then, and nobody reads them any more), and any read one a year after
//     it was written (ReadNotificationRetention). An unread one stays while
//     the account is open: it is still to be read.
//   - a person's sealed ID number and name (identities), once no account
//     lists them, no bar, block, waiting place or live lottery entry names
//     them and no booking of theirs is to come, and a year (IdentityRetention,
//     or Config.BlockFor if longer: the longest bar or block) has passed
//     since the last of those and since they were first seen. The keyed
//     hashes and masks stay, so quotas, bars and blocks still count them and
//     their old bookings still show a masked name. A person met again (a
//     booking, a listing, the desk) has their number sealed again from what
//     they give.
//   - a closed case's free texts (the patient's text, the answer, the
//     closing note), Config.CaseRecordYears (3 by default: the hospital's
//     complaint-record period) after it closed; its kind, category, dates,
//     status and who answered and closed stay.

// DefaultCallBackGrace is Config.CallBackGrace's default.
const DefaultCallBackGrace = 30 * 24 * time.Hour

// How long booking events are kept (review21b M4: they were kept for
// ever). Refused attempts (rejected, rate_limited: the table's growth at
// release hours, up to --refusal-rate a second) are read only by the
// detector, over its window (30 days), and by an appeal or a complaint
// about a refusal within the next weeks: 90 days. The other events (logins,
// bookings, cancellations, entries) also answer "when did this account last
// log in" and the 90-day number-release check, and are the record of a
// booking's history a complaint may ask about within the year: 400 days
// (13 months and a margin). An event of a session whose day is not past by
// the detection window is kept whatever its age. The bookings, the audit
// log and the lottery draws are other tables and stay.
const (
	RefusedEventRetention = 90 * 24 * time.Hour
	EventRetention        = 400 * 24 * time.Hour
)

// How long notifications and persons nobody lists are kept (review21 M7,
// above), and the complaint-record period's default.
const (
	ClosedNotificationRetention = 30 * 24 * time.Hour
	ReadNotificationRetention   = 365 * 24 * time.Hour
	IdentityRetention           = 365 * 24 * time.Hour
	DefaultCaseRecordYears      = 3
)

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
	// PurgeEvents deletes at most limit booking events: refused attempts
	// (rejected, rate_limited) written before refused.Before and the others
	// before all.Before, whose session's day, if they have one, is before
	// the cutoff's Day; it returns how many it deleted.
	PurgeEvents(ctx context.Context, refused, all CallBackCutoff, limit int) (int, error)
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
	// EraseRemovedMembers erases, of at most limit family members removed
	// before before, the number and name their account gave (phone hash,
	// sealed and masked; sealed name), oldest removal first; it returns how
	// many rows it changed (a row already erased is not counted again).
	EraseRemovedMembers(ctx context.Context, before time.Time, limit int) (int, error)
	// EraseEventPhones empties the phone reference of at most limit events
	// written before cut.Before whose session's day (if they have one) is
	// before cut.Day, oldest first; it returns how many it changed.
	EraseEventPhones(ctx context.Context, cut CallBackCutoff, limit int) (int, error)
	// EraseReportPhones erases the offered number (hash and mask) of at
	// most limit cases filed before filedBefore and closed before
	// closedBefore whose flag, if any, is no longer open; it returns how
	// many it changed.
	EraseReportPhones(ctx context.Context, filedBefore, closedBefore time.Time, limit int) (int, error)
	// PurgeNotifications deletes at most limit notifications (not call-back
	// rows) of accounts closed before closedBefore, or read and written
	// before readBefore; it returns how many it deleted.
	PurgeNotifications(ctx context.Context, closedBefore, readBefore time.Time, limit int) (int, error)
	// EraseIdentities erases the sealed ID number and name of at most
	// limit persons first seen before cut.Before whom no account lists
	// (a listed row, or one removed since cut.Before), no bar or block
	// names until cut.Before or later, no booking on or after cut.Day, no
	// waiting place and no live lottery entry names; a document linked to
	// another person's is passed by. It returns how many it changed.
	EraseIdentities(ctx context.Context, cut CallBackCutoff, limit int) (int, error)
	// EraseCaseTexts empties the free texts (the patient's text, the
	// answer, the closing note) of at most limit cases closed before
	// closedBefore; it returns how many it changed.
	EraseCaseTexts(ctx context.Context, closedBefore time.Time, limit int) (int, error)
}

// Purged counts what a retention run deleted.
type Purged struct {
	CallBacks    int // call-back rows
	CallerPhones int // numbers kept to call back (sealed and masked)
	// What the run erased (the rows stay): removed family members' numbers
	// and names, events' phone references, reports' offered numbers.
	RemovedMembers, EventPhones, ReportPhones int
	Events                                    int // events deleted past EventRetention / RefusedEventRetention
	// Session 23 (M7): notifications deleted; persons whose sealed number
	// and name, and closed cases whose texts, the run erased.
	Notifications, Identities, CaseTexts int
}

// callBackCutoff is the rule's line as of now: the earliest of the
// hospitals' dates today, less the grace in whole days (rounded up), and
// now less the grace.
func (s *Service) callBackCutoff() CallBackCutoff { return s.cutoff(s.cfg.CallBackGrace) }

// eventPhoneCutoff is the line of events' phone references: the detection
// window or the grace, whichever is longer.
func (s *Service) eventPhoneCutoff() CallBackCutoff {
	return s.cutoff(max(s.cfg.CallBackGrace, s.cfg.DetectWindow))
}

// cutoff is the line of a rule whose need ends grace after a session's day
// or an instant.
func (s *Service) cutoff(grace time.Duration) CallBackCutoff {
	now := s.cfg.Now()
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

// Retain runs the retention rules (above): it deletes the call-back rows
// and then the numbers kept to call back past their need, and erases the
// removed members', events' and reports' numbers and names past theirs, in
// batches, at most purgeBatches of each per run. It is idempotent: a run
// after another finds nothing more until time moves on. Counted in Stats;
// the log line names counts and the cutoff, never a number or a person. A
// step that fails ends the run (the next takes it on).
func (s *Service) Retain(ctx context.Context) (Purged, error) {
	cut, events := s.callBackCutoff(), s.eventPhoneCutoff()
	detectFrom := s.cfg.Now().Add(-s.cfg.DetectWindow)
	var p Purged
	for _, step := range []struct {
		n     *int
		stat  *atomic.Uint64
		batch func(context.Context) (int, error)
	}{
		// The rows first: a number goes once no row about its item is left.
		{&p.CallBacks, &s.stats.callBacksPurged, func(ctx context.Context) (int, error) {
			return s.store.PurgeCallBacks(ctx, cut, purgeBatch)
		}},
		{&p.CallerPhones, &s.stats.callerPhonesPurged, func(ctx context.Context) (int, error) {
			return s.store.PurgeCallerPhones(ctx, cut, purgeBatch)
		}},
		{&p.RemovedMembers, &s.stats.removedMembersErased, func(ctx context.Context) (int, error) {
			return s.store.EraseRemovedMembers(ctx, cut.Before, purgeBatch)
		}},
		{&p.ReportPhones, &s.stats.reportPhonesErased, func(ctx context.Context) (int, error) {
			return s.store.EraseReportPhones(ctx, detectFrom, cut.Before, purgeBatch)
		}},
		{&p.Notifications, &s.stats.notificationsPurged, func(ctx context.Context) (int, error) {
			now := s.cfg.Now()
			return s.store.PurgeNotifications(ctx, now.Add(-ClosedNotificationRetention), now.Add(-ReadNotificationRetention), purgeBatch)
		}},
		{&p.Identities, &s.stats.identitiesErased, func(ctx context.Context) (int, error) {
			return s.store.EraseIdentities(ctx, s.cutoff(max(IdentityRetention, s.cfg.BlockFor)), purgeBatch)
		}},
		{&p.CaseTexts, &s.stats.caseTextsErased, func(ctx context.Context) (int, error) {
			return s.store.EraseCaseTexts(ctx, s.cfg.Now().AddDate(-s.cfg.CaseRecordYears, 0, 0), purgeBatch)
		}},
		// Last: the events are the biggest table, and a first run over
		// years of logins takes several runs (each bounded) to go through.
		{&p.EventPhones, &s.stats.eventPhonesErased, func(ctx context.Context) (int, error) {
			return s.store.EraseEventPhones(ctx, events, purgeBatch)
		}},
		{&p.Events, &s.stats.eventsPurged, func(ctx context.Context) (int, error) {
			return s.store.PurgeEvents(ctx, s.cutoff(max(RefusedEventRetention, s.cfg.DetectWindow)), s.cutoff(EventRetention), purgeBatch)
		}},
	} {
		var err error
		*step.n, err = purgeInBatches(ctx, step.batch)
		step.stat.Add(uint64(*step.n))
		if err != nil {
			s.logRetained(p, cut)
			return p, fmt.Errorf("retention before %s: %w", cut.Day, err)
		}
	}
	s.logRetained(p, cut)
	return p, nil
}

// logRetained logs what a run deleted and erased, if anything: counts and
// the cutoff day only.
func (s *Service) logRetained(p Purged, cut CallBackCutoff) {
	if p != (Purged{}) {
		s.log.Info("purged personal data past retention", "call_backs", p.CallBacks, "caller_phones", p.CallerPhones,
			"removed_members", p.RemovedMembers, "event_phones", p.EventPhones, "report_phones", p.ReportPhones, "events", p.Events,
			"notifications", p.Notifications, "identities", p.Identities, "case_texts", p.CaseTexts,
			"sessions_before", cut.Day)
	}
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
