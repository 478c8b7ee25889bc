package booking

import (
	"context"
	"slices"
)

// After a Redis failover the new master may lack the latest writes of the
// old one (replication is asynchronous): holds taken, slots returned. SQL's
// unique indexes still refuse a slot Redis hands out twice (Drifts counts
// those), but a pool may look fuller or emptier than it is until the
// hospital is reconciled. cmd/fairslot watches which Redis node serves
// each hospital and calls ReconcileHospitals when it changes.

// ReconcileHospitals reconciles the upcoming sessions of the given
// hospitals with SQL, as Reconcile does for all of them.
func (s *Service) ReconcileHospitals(ctx context.Context, hospitalIDs []string) error {
	cat := s.catalog.Load()
	var sessions []*Session
	for _, h := range cat.Hospitals() {
		if slices.Contains(hospitalIDs, h.ID) {
			sessions = append(sessions, cat.HospitalSessions(h.ID)...)
		}
	}
	return s.reconcile(ctx, cat, sessions)
}
