package booking

import (
	"sync/atomic"
	"time"
)

// opsStats are counts the operators watch (cmd/fairslot exports them as
// metrics): outcomes counted where they happen, in the domain, whatever
// channel or console caused them.
type opsStats struct {
	drifts atomic.Uint64 // commits SQL refused because Redis handed out a booked slot
	// putBacksFailed: pool moves SQL refused whose slots could not be
	// put back in Redis (MovePool); each session is reconciled.
	putBacksFailed atomic.Uint64
	flagsOpened    atomic.Uint64 // flags the detector opened or reopened
	flagsOverdue   atomic.Int64  // open flags past their decision deadline, at the last detection run
	detectRuns     atomic.Uint64
	detectLast     atomic.Int64 // nanoseconds of the last detector run (the detector alone, not its SQL)
	detectEvents   atomic.Int64 // events the last run read

	callBacksPurged    atomic.Uint64 // call-back rows deleted past retention (retention.go)
	callerPhonesPurged atomic.Uint64 // numbers kept to call back deleted past retention
	// What the retention job erased: removed members' numbers and names,
	// events' phone references, reports' offered numbers.
	removedMembersErased, eventPhonesErased, reportPhonesErased atomic.Uint64
	eventsPurged                                                atomic.Uint64 // events deleted past EventRetention / RefusedEventRetention
	// Session 23 (M7): notifications deleted; persons' sealed numbers and
	// names, closed cases' texts erased.
	notificationsPurged, identitiesErased, caseTextsErased atomic.Uint64
}

func (o *opsStats) detected(took time.Duration, events int) {
	o.detectRuns.Add(1)
	o.detectLast.Store(int64(took))
	o.detectEvents.Store(int64(events))
}

// OpsStats is a snapshot of those counts.
type OpsStats struct {
	// Drifts counts the commits SQL refused because Redis had handed out a
	// slot SQL had already booked: Redis drifted from SQL (a failover, a
	// restart that lost writes). Each is answered 503 and its session
	// reconciled at once.
	Drifts uint64
	// PutBacksFailed counts the pool moves SQL refused whose slots Redis
	// could not be given back (MovePool): each session is reconciled, which
	// puts every slot where SQL has it.
	PutBacksFailed uint64
	// FlagsOpened counts the flags the detector opened or reopened.
	FlagsOpened uint64
	// FlagsOverdue counts the open flags past their decision deadline
	// (Config.FlagDecisionWithin) at the last detection run.
	FlagsOverdue int64
	// DetectRuns counts the detector's runs; DetectLast is how long the
	// last one took over DetectEvents events.
	DetectRuns   uint64
	DetectLast   time.Duration
	DetectEvents int64
	// CallBacksPurged and CallerPhonesPurged count the call-back rows and
	// the numbers kept to call back that the retention job deleted
	// (retention.go).
	CallBacksPurged, CallerPhonesPurged uint64
	// RemovedMembersErased, EventPhonesErased and ReportPhonesErased count
	// the removed family members whose number and name, the events whose
	// phone reference, and the reports whose offered number the retention
	// job erased.
	RemovedMembersErased, EventPhonesErased, ReportPhonesErased uint64
	// EventsPurged counts the booking events the retention job deleted.
	EventsPurged uint64
	// NotificationsPurged counts the notifications the retention job
	// deleted; IdentitiesErased the persons whose sealed ID number and name,
	// CaseTextsErased the closed cases whose free texts it erased.
	NotificationsPurged, IdentitiesErased, CaseTextsErased uint64
}

// Stats returns the operators' counts.
func (s *Service) Stats() OpsStats {
	return OpsStats{
		Drifts:         s.stats.drifts.Load(),
		PutBacksFailed: s.stats.putBacksFailed.Load(),
		FlagsOpened:    s.stats.flagsOpened.Load(),
		FlagsOverdue:   s.stats.flagsOverdue.Load(),
		DetectRuns:     s.stats.detectRuns.Load(),
		DetectLast:     time.Duration(s.stats.detectLast.Load()),
		DetectEvents:   s.stats.detectEvents.Load(),

		CallBacksPurged:    s.stats.callBacksPurged.Load(),
		CallerPhonesPurged: s.stats.callerPhonesPurged.Load(),

		RemovedMembersErased: s.stats.removedMembersErased.Load(),
		EventPhonesErased:    s.stats.eventPhonesErased.Load(),
		ReportPhonesErased:   s.stats.reportPhonesErased.Load(),
		EventsPurged:         s.stats.eventsPurged.Load(),

		NotificationsPurged: s.stats.notificationsPurged.Load(),
		IdentitiesErased:    s.stats.identitiesErased.Load(),
		CaseTextsErased:     s.stats.caseTextsErased.Load(),
	}
}

// StateNotWhole counts the hospitals whose admission state this instance
// last saw not whole in Redis (lost, stale or being reloaded, heal.go): each
// answers 503 to bookings until it is reloaded, which takes seconds.
func (s *Service) StateNotWhole() int { return len(*s.health.Load()) }

// DrawsOverdue counts the lottery pools of the catalog whose draw should
// have finished by now (a minute after their draw time and grace) and is
// not drawn yet: no instance is drawing them, or their draw keeps failing.
// The catalog learns a finished draw at its next refresh (30 s).
func (s *Service) DrawsOverdue() int {
	late := s.cfg.Now().Add(-s.cfg.DrawGrace - time.Minute)
	cat := s.catalog.Load()
	n := 0
	for _, h := range cat.Hospitals() {
		for _, sess := range cat.HospitalSessions(h.ID) {
			for _, q := range sess.Channels {
				if q.IsLottery() && q.DrawAt.Before(late) && (q.Draw == nil || q.Draw.Status != DrawDrawn) {
					n++
				}
			}
		}
	}
	return n
}
