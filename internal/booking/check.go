package booking

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Check compares Redis with SQL for every session in the catalog and
// describes each disagreement: a hold SQL does not know, an active booking
// Redis does not hold, or a channel whose free and held slots do not add up
// to its quota. An empty list means they agree. Holds of bookings still in
// flight show up too, so run it on a quiet system. It only reads; Reconcile
// repairs.
func (s *Service) Check(ctx context.Context) ([]string, error) {
	cat := s.catalog.Load()
	var out []string
	for _, h := range cat.Hospitals() {
		sessions := cat.HospitalSessions(h.ID)
		if len(sessions) == 0 {
			continue
		}
		ids := make([]string, len(sessions))
		oldest := sessions[0].VisitDate
		for i, ss := range sessions {
			ids[i] = ss.ID
			oldest = min(oldest, ss.VisitDate)
		}
		holds, err := s.adm.Holds(ctx, h.ID, ids)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		active, err := s.store.ActiveBookings(ctx, h.ID, oldest)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		rem, err := s.adm.Remaining(ctx, sessions)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		// Returned slots waiting out their random delay are neither free
		// nor held, but still the session's.
		delayed, err := s.adm.Delayed(ctx, h.ID, time.Now().Add(100*365*24*time.Hour), 1_000_000)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		waiting := map[string]map[Channel]int{}
		for _, d := range delayed {
			if waiting[d.SessionID] == nil {
				waiting[d.SessionID] = map[Channel]int{}
			}
			waiting[d.SessionID][d.Channel]++
		}
		held := map[string]Hold{}
		heldPerChannel := map[string]map[Channel]int{}
		for _, hd := range holds {
			held[hd.BookingID] = hd
			if heldPerChannel[hd.SessionID] == nil {
				heldPerChannel[hd.SessionID] = map[Channel]int{}
			}
			heldPerChannel[hd.SessionID][hd.Channel]++
		}
		inSQL := map[string]bool{}
		for _, b := range active {
			inSQL[b.ID] = true
			hd, ok := held[b.ID]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("session %s slot %d: booking %s is active in SQL but not held in Redis", b.SessionID, b.SlotNo, b.ID))
			case hd.SlotNo != b.SlotNo:
				out = append(out, fmt.Sprintf("session %s: booking %s holds slot %d in Redis but %d in SQL", b.SessionID, b.ID, hd.SlotNo, b.SlotNo))
			}
		}
		var unknown []string
		for id := range held {
			if !inSQL[id] {
				unknown = append(unknown, id)
			}
		}
		slices.Sort(unknown)
		for _, id := range unknown {
			hd := held[id]
			out = append(out, fmt.Sprintf("session %s slot %d: Redis holds it for %s, which SQL has no active booking for", hd.SessionID, hd.SlotNo, id))
		}
		missing, stale, err := s.entryDiff(ctx, h.ID, sessions, oldest)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		for _, ss := range sessions {
			for _, e := range missing[ss.ID] {
				out = append(out, fmt.Sprintf("session %s: lottery entry %s is live in SQL but holds no quota in Redis", ss.ID, e.ID))
			}
			for _, r := range stale[ss.ID] {
				out = append(out, fmt.Sprintf("session %s: Redis holds quota for lottery entry %s, which SQL has no live entry for", ss.ID, r.EntryID))
			}
		}
		for i, ss := range sessions {
			for _, q := range ss.Channels {
				free, held, later := rem[i][q.Channel], heldPerChannel[ss.ID][q.Channel], waiting[ss.ID][q.Channel]
				if got := free + held + later; got != q.Quota {
					out = append(out, fmt.Sprintf("session %s channel %s: %d free + %d held + %d returned awaiting their delay = %d, quota %d",
						ss.ID, q.Channel, free, held, later, got, q.Quota))
				}
			}
		}
	}
	return out, nil
}
