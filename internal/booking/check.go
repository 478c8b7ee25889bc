package booking

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Drift is one difference between Redis and SQL.
type Drift struct {
	HospitalID string
	SessionID  string // empty for a hospital-wide difference
	Slot       int    // 0 when the difference is not about one slot
	Kind       string // one of the Drift* kinds
	Detail     string
}

// The kinds of drift Check reports.
const (
	DriftStateMissing   = "state_missing"   // the hospital's mark of a complete load is missing or stale
	DriftSessionMissing = "session_missing" // Redis does not know the session
	DriftReleaseTime    = "release_time"    // a channel's release time differs
	DriftNotHeld        = "not_held"        // booked in SQL, not held in Redis
	DriftHeldElsewhere  = "held_elsewhere"  // the booking holds another slot in Redis
	DriftStaleHold      = "stale_hold"      // held in Redis for a booking SQL has no active row for
	DriftPendingHold    = "pending_hold"    // the same, but its commit may still be in flight
	DriftHeldAndFree    = "held_and_free"   // a held slot is also in a free pool
	DriftWrongPool      = "wrong_pool"      // a free slot is in another channel's pool
	DriftFreeTwice      = "free_twice"      // a free slot is in more than one pool
	DriftLostSlot       = "lost_slot"       // a slot free in SQL is neither free, held nor waiting out a delay
	DriftUnknownSlot    = "unknown_slot"    // a pool has a slot the session does not have
	DriftNoRecord       = "no_record"       // a held booking has no booking record
	DriftQuotaMissing   = "quota_missing"   // an active booking is not counted in its identity's quotas
	DriftQuotaStale     = "quota_stale"     // an identity's quotas count a booking that is not active
	DriftBarMissing     = "bar_missing"     // an active bar is not in Redis
	DriftWaitlist       = "waitlist"        // the waitlists differ
	DriftEntryMissing   = "entry_missing"   // a live lottery entry in SQL holds no quota in Redis
	DriftEntryStale     = "entry_stale"     // Redis holds quota for an entry SQL has no live row for
	DriftEntryPending   = "entry_pending"   // the same, but its commit may still be in flight
	DriftStoppedOpen    = "stopped_open"    // a stopped clinic still admits in Redis, or holds a booking
)

func (d Drift) String() string {
	var b strings.Builder
	if d.SessionID == "" {
		fmt.Fprintf(&b, "hospital %s", d.HospitalID)
	} else {
		fmt.Fprintf(&b, "session %s", d.SessionID)
	}
	if d.Slot > 0 {
		fmt.Fprintf(&b, " slot %d", d.Slot)
	}
	fmt.Fprintf(&b, " %s: %s", d.Kind, d.Detail)
	return b.String()
}

// Check compares Redis with SQL for every session in the catalog and lists
// each difference. It only reads: nothing in Redis or SQL changes (load the
// catalog with LoadCatalog, not Refresh, to keep it so). Holds of commits
// still in flight show up as pending_hold, so run it on a quiet system.
// Reconcile repairs what it finds.
func (s *Service) Check(ctx context.Context) ([]Drift, error) {
	cat := s.catalog.Load()
	bars, err := s.store.ActiveBars(ctx, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var out []Drift
	for _, h := range cat.Hospitals() {
		d, err := s.checkHospital(ctx, cat, h.ID, bars)
		if err != nil {
			return nil, fmt.Errorf("check hospital %s: %w", h.ID, err)
		}
		out = append(out, d...)
	}
	return out, nil
}

func (s *Service) checkHospital(ctx context.Context, cat *Catalog, hid string, bars []Bar) ([]Drift, error) {
	sessions := cat.HospitalSessions(hid)
	var out []Drift
	add := func(sid string, slot int, kind, format string, args ...any) {
		out = append(out, Drift{HospitalID: hid, SessionID: sid, Slot: slot, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	var active []Booking
	if len(sessions) > 0 {
		var err error
		if active, err = s.store.ActiveBookings(ctx, hid, oldestVisit(sessions)); err != nil {
			return nil, err
		}
	}
	waiting, err := s.store.WaitingEntries(ctx, hid)
	if err != nil {
		return nil, err
	}
	var idents []string
	for _, b := range active {
		idents = append(idents, b.IdentityKey)
	}
	for _, b := range bars {
		idents = append(idents, b.IdentityKey)
	}
	snap, err := s.adm.Snapshot(ctx, hid, sessions, idents)
	if err != nil {
		return nil, err
	}
	if snap.Status != StateWhole {
		add("", 0, DriftStateMissing, "the mark of a complete load is %s: the state is not trusted until it is reloaded", snap.Status)
	}
	now := s.cfg.Now()
	booked := map[string]Booking{} // by id
	bySession := map[string]map[int]Booking{}
	for _, b := range active {
		booked[b.ID] = b
		if bySession[b.SessionID] == nil {
			bySession[b.SessionID] = map[int]Booking{}
		}
		bySession[b.SessionID][b.SlotNo] = b
	}
	delayed := map[string]map[int]bool{}
	for _, d := range snap.Delayed {
		if delayed[d.SessionID] == nil {
			delayed[d.SessionID] = map[int]bool{}
		}
		delayed[d.SessionID][d.SlotNo] = true
	}
	for _, ss := range sessions {
		rs := snap.Sessions[ss.ID]
		if !rs.Exists {
			add(ss.ID, 0, DriftSessionMissing, "Redis has no meta for this session")
		}
		if ss.Stopped() {
			out = append(out, stoppedDrift(hid, ss, rs, bySession[ss.ID])...)
			continue
		}
		for _, q := range ss.Channels {
			if got, ok := rs.Release[q.Channel]; rs.Exists && (!ok || got.UnixMilli() != q.ReleaseAt.UnixMilli()) {
				add(ss.ID, 0, DriftReleaseTime, "channel %s releases at %s in SQL, %s in Redis", q.Channel,
					q.ReleaseAt.Format(time.RFC3339), got.Format(time.RFC3339))
			}
		}
		freeIn := map[int][]Channel{}
		for ch, slots := range rs.Free {
			for _, n := range slots {
				freeIn[n] = append(freeIn[n], ch)
			}
		}
		inSession := map[int]bool{}
		for _, sl := range ss.Slots {
			inSession[sl.No] = true
			b, isBooked := bySession[ss.ID][sl.No]
			bid, isHeld := rs.Held[sl.No]
			free := freeIn[sl.No]
			slices.Sort(free)
			switch {
			case isBooked && !isHeld:
				add(ss.ID, sl.No, DriftNotHeld, "booking %s is active in SQL but the slot is not held in Redis", b.ID)
			case isBooked && bid != b.ID:
				add(ss.ID, sl.No, DriftStaleHold, "held for %s in Redis, booked by %s in SQL", bid, b.ID)
			case !isBooked && isHeld:
				if other, ok := booked[bid]; ok {
					add(ss.ID, sl.No, DriftHeldElsewhere, "held for %s, which SQL has at slot %d", bid, other.SlotNo)
				} else if dl, ok := snap.Pending[bid]; ok && dl.After(now) {
					add(ss.ID, sl.No, DriftPendingHold, "held for %s, not in SQL, commit may be in flight until %s", bid, dl.Format(time.RFC3339))
				} else {
					add(ss.ID, sl.No, DriftStaleHold, "held for %s, which SQL has no active booking for", bid)
				}
			}
			switch {
			case isHeld && len(free) > 0:
				add(ss.ID, sl.No, DriftHeldAndFree, "held and also free in %v", free)
			case len(free) > 1:
				add(ss.ID, sl.No, DriftFreeTwice, "free in %v", free)
			case len(free) == 1 && free[0] != sl.Channel:
				add(ss.ID, sl.No, DriftWrongPool, "a %s slot is free in the %s pool", sl.Channel, free[0])
			case !isHeld && !isBooked && len(free) == 0 && !delayed[ss.ID][sl.No]:
				add(ss.ID, sl.No, DriftLostSlot, "free in SQL, but in no pool and not waiting out a return delay")
			}
			if isHeld {
				if _, ok := snap.Records[bid]; !ok {
					add(ss.ID, sl.No, DriftNoRecord, "booking %s has no booking record (idempotency, release)", bid)
				}
			}
		}
		for n, chs := range freeIn {
			if !inSession[n] {
				add(ss.ID, n, DriftUnknownSlot, "free in %v, but the session has no such slot", chs)
			}
		}
		out = append(out, waitlistDrift(hid, ss.ID, rs.Waitlist, waiting)...)
	}
	if len(sessions) > 0 {
		missing, stale, err := s.entryDiff(ctx, hid, sessions, oldestVisit(sessions))
		if err != nil {
			return nil, err
		}
		for _, ss := range sessions {
			for _, e := range missing[ss.ID] {
				add(ss.ID, 0, DriftEntryMissing, "lottery entry %s is live in SQL but holds no quota in Redis", e.ID)
			}
			for _, r := range stale[ss.ID] {
				if dl, ok := snap.EntriesPending[r.EntryID]; ok && dl.After(now) {
					add(ss.ID, 0, DriftEntryPending, "lottery entry %s holds quota in Redis, not in SQL; its commit may be in flight until %s",
						r.EntryID, dl.Format(time.RFC3339))
					continue
				}
				add(ss.ID, 0, DriftEntryStale, "Redis holds quota for lottery entry %s, which SQL has no live entry for", r.EntryID)
			}
		}
	}
	// Quotas: each active booking of today or later is counted in its
	// identity's holds (those of past days no longer count, and booking
	// again prunes them), and nothing else of the catalog's days is.
	inCatalog := map[string]bool{}
	for _, ss := range sessions {
		inCatalog[ss.ID] = true
	}
	today := now.In(chinaStandardTime).Format(time.DateOnly)
	if h, ok := cat.Hospital(hid); ok {
		today = now.In(h.Location()).Format(time.DateOnly)
	}
	for _, b := range active {
		if b.VisitDate < today || !inCatalog[b.SessionID] {
			continue
		}
		if _, ok := snap.Identities[b.IdentityKey][b.ID]; !ok {
			add(b.SessionID, b.SlotNo, DriftQuotaMissing, "booking %s does not count in its identity's quotas", b.ID)
		}
	}
	for ik, entries := range snap.Identities {
		for bid, entry := range entries {
			f := strings.Split(entry, "|")
			if len(f) < 6 || !inCatalog[f[4]] || f[0] < today {
				continue // a past day's hold, pruned when the identity books again
			}
			if f[5] == "E" {
				continue // a lottery entry's hold: compared with SQL's entries above
			}
			if _, ok := booked[bid]; ok {
				continue
			}
			if dl, ok := snap.Pending[bid]; ok && dl.After(now) {
				continue // its commit may be in flight: reported with its hold
			}
			slot, _ := strconv.Atoi(f[5])
			add(f[4], slot, DriftQuotaStale, "identity %s… still counts booking %s, which is not active", ik[:min(8, len(ik))], bid)
		}
	}
	for _, b := range bars {
		if until, ok := snap.Bars[b.IdentityKey]; !ok || until.UnixMilli() < b.Until.UnixMilli() {
			add("", 0, DriftBarMissing, "identity %s… is barred until %s in SQL, not in Redis",
				b.IdentityKey[:min(8, len(b.IdentityKey))], b.Until.Format(time.DateOnly))
		}
	}
	slices.SortStableFunc(out, func(a, b Drift) int {
		return cmp.Or(strings.Compare(a.SessionID, b.SessionID), a.Slot-b.Slot)
	})
	return out, nil
}

// stoppedDrift checks a stopped clinic: Redis admits nothing (no release
// time, no free slot, no waitlist) and SQL holds no active booking.
func stoppedDrift(hid string, ss *Session, rs SessionSnapshot, active map[int]Booking) []Drift {
	var out []Drift
	add := func(slot int, format string, args ...any) {
		out = append(out, Drift{HospitalID: hid, SessionID: ss.ID, Slot: slot, Kind: DriftStoppedOpen, Detail: fmt.Sprintf(format, args...)})
	}
	for ch := range rs.Release {
		add(0, "channel %s still has a release time in Redis", ch)
	}
	for ch, slots := range rs.Free {
		for _, n := range slots {
			add(n, "free in the %s pool", ch)
		}
	}
	for n, bid := range rs.Held {
		add(n, "held for %s", bid)
	}
	for n, b := range active {
		add(n, "booking %s is active in SQL", b.ID)
	}
	if len(rs.Waitlist) > 0 {
		add(0, "%d entries on the waitlist in Redis", len(rs.Waitlist))
	}
	return out
}

// waitlistDrift compares a session's waitlist in Redis with SQL's waiting
// entries.
func waitlistDrift(hid, sid string, inRedis []WaitlistRef, waiting []WaitlistEntry) []Drift {
	want := map[string]bool{}
	for _, e := range waiting {
		if e.SessionID == sid {
			want[e.ID] = true
		}
	}
	var out []Drift
	seen := map[string]bool{}
	for _, r := range inRedis {
		seen[r.ID] = true
		if !want[r.ID] {
			out = append(out, Drift{HospitalID: hid, SessionID: sid, Kind: DriftWaitlist,
				Detail: fmt.Sprintf("entry %s is on the waitlist in Redis, not waiting in SQL", r.ID)})
		}
	}
	for id := range want {
		if !seen[id] {
			out = append(out, Drift{HospitalID: hid, SessionID: sid, Kind: DriftWaitlist,
				Detail: fmt.Sprintf("entry %s is waiting in SQL, not on the waitlist in Redis", id)})
		}
	}
	return out
}
