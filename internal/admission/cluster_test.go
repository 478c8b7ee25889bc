package admission

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// These tests run the gate, unchanged, on the Redis Cluster of `make test`
// (deploy/local/services.sh start-cluster: three masters). Hospitals are
// picked so that their hash tags land on different masters. A script or a
// command whose keys spanned slots would fail with CROSSSLOT, and with it
// the test.

type clusterFixture struct {
	t      *testing.T
	ctx    context.Context
	rdb    *redis.ClusterClient
	prefix string
	g      *Gate
	// One fixture per hospital, sharing g. Its rdb is the master that holds
	// the hospital's slot, so the single-Redis helpers (free, exists, bar,
	// waitExpired...) read the hospital's keys where they live.
	hosps []*fixture
	slots map[string]int64 // hospital → cluster slot, from CLUSTER KEYSLOT
}

// newClusterFixture picks n hospitals, spread round-robin over the masters.
func newClusterFixture(t *testing.T, n int) *clusterFixture {
	t.Helper()
	rdb, prefix := testenv.RedisCluster(t)
	ctx := t.Context()
	g := New(rdb, prefix, nil)
	testenv.Must(t, g.Preload(ctx), "preload scripts")
	testenv.Must(t, g.Ping(ctx), "ping")
	cf := &clusterFixture{t: t, ctx: ctx, rdb: rdb, prefix: prefix, g: g, slots: map[string]int64{}}

	masters := cf.masters()
	if len(masters) < 2 {
		t.Fatalf("the test cluster has %d master(s); want at least 2 so hospitals land on different nodes", len(masters))
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	testenv.Must(t, err, "cluster shards")
	for i := range n {
		want := masters[i%len(masters)].Options().Addr
		for tries := 0; ; tries++ {
			if tries == 10000 {
				t.Fatalf("no hospital id hashes to master %s in %d tries", want, tries)
			}
			h := booking.NewID()
			key := g.keys(h).pending()
			node, err := rdb.MasterForKey(ctx, key)
			testenv.Must(t, err, "master for %s", key)
			if node.Options().Addr != want {
				continue
			}
			// The server's own view must agree with the client's.
			slot, err := rdb.ClusterKeySlot(ctx, key).Result()
			testenv.Must(t, err, "cluster keyslot %s", key)
			if owner := slotOwner(shards, slot); owner != want {
				t.Fatalf("slot %d of %s: CLUSTER SHARDS says %q, the client says %s", slot, key, owner, want)
			}
			cf.slots[h] = slot
			cf.hosps = append(cf.hosps, &fixture{t: t, ctx: ctx, rdb: node, prefix: prefix, g: g, hosp: h})
			markWhole(t, g, h)
			t.Logf("hospital %s: slot %d on %s", h, slot, want)
			break
		}
	}
	return cf
}

// slotOwner is the address of the master serving slot, by CLUSTER SHARDS.
func slotOwner(shards []redis.ClusterShard, slot int64) string {
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if r.Start <= slot && slot <= r.End {
				for _, n := range sh.Nodes {
					if n.Role == "master" {
						return net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
					}
				}
			}
		}
	}
	return ""
}

// masters lists the cluster's masters, ordered by address.
func (cf *clusterFixture) masters() []*redis.Client {
	cf.t.Helper()
	var mu sync.Mutex
	var out []*redis.Client
	err := cf.rdb.ForEachMaster(cf.ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
		return nil
	})
	testenv.Must(cf.t, err, "list masters")
	slices.SortFunc(out, func(a, b *redis.Client) int { return strings.Compare(a.Options().Addr, b.Options().Addr) })
	return out
}

// on returns the fixture of a hospital bound to t (a subtest).
func on(t *testing.T, f *fixture) *fixture {
	c := *f
	c.t, c.ctx = t, t.Context()
	return &c
}

// nodes counts the distinct masters the given hospitals live on.
func nodes(hs []*fixture) int {
	seen := map[string]bool{}
	for _, f := range hs {
		seen[f.rdb.Options().Addr] = true
	}
	return len(seen)
}

// snapshot dumps every key under the test prefix on every master.
func (cf *clusterFixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range cf.masters() {
		f := &fixture{t: t, ctx: t.Context(), rdb: m, prefix: cf.prefix}
		maps.Copy(out, f.snapshot())
	}
	return out
}

// keysByMaster lists the keys under the test prefix, by master address.
func (cf *clusterFixture) keysByMaster() map[string][]string {
	cf.t.Helper()
	out := map[string][]string{}
	for _, m := range cf.masters() {
		iter := m.Scan(cf.ctx, 0, cf.prefix+":*", 1000).Iterator()
		for iter.Next(cf.ctx) {
			out[m.Options().Addr] = append(out[m.Options().Addr], iter.Val())
		}
		testenv.Must(cf.t, iter.Err(), "scan %s", m.Options().Addr)
	}
	return out
}

// sqlBooking is a booking as SQL's ActiveBookings returns it.
func sqlBooking(t *testing.T, s *booking.Session, id string, slotNo int, c booking.Channel, ik string) booking.Booking {
	t.Helper()
	sl, ok := s.Slot(slotNo)
	if !ok || sl.Channel != c {
		t.Fatalf("session %s has no %s slot %d", s.ID, c, slotNo)
	}
	return booking.Booking{
		ID: id, SessionID: s.ID, HospitalID: s.HospitalID, DepartmentID: s.DepartmentID, DoctorID: s.DoctorID,
		VisitDate: s.VisitDate, SlotNo: slotNo, SlotStart: sl.StartsAt, SlotEnd: sl.EndsAt,
		PatientID: booking.NewID(), IdentityID: booking.NewID(), IdentityKey: ik, AccountID: booking.NewID(),
		Channel: c, Status: booking.StatusConfirmed, CreatedAt: time.Now(),
	}
}

func wantHolds(hs ...booking.Hold) []booking.Hold {
	sortHolds(hs)
	return hs
}

// TestClusterGate runs the whole Admission interface for hospitals on
// different masters, then Remaining over all of them in one pipeline.
func TestClusterGate(t *testing.T) {
	cf := newClusterFixture(t, 3)
	if n := nodes(cf.hosps); n < 2 {
		t.Fatalf("hospitals on %d node(s), want at least 2", n)
	}
	sessions := make([]*booking.Session, len(cf.hosps))
	wantRem := make([]map[booking.Channel]int, len(cf.hosps))

	for i, base := range cf.hosps {
		t.Run(fmt.Sprintf("hospital %d on %s", i, base.rdb.Options().Addr), func(t *testing.T) {
			f := on(t, base)
			dept := booking.NewID()
			s := f.newSession(day(1), dept, online(5, past), phone(2, future)) // online 1-5, phone 6-7
			x, y := newIdentityKey(), newIdentityKey()

			// Load from SQL: two active bookings.
			active := []booking.Booking{
				sqlBooking(t, s, booking.NewID(), 2, booking.ChannelOnline, x),
				sqlBooking(t, s, booking.NewID(), 6, booking.ChannelPhone, y),
			}
			testenv.Must(t, f.g.Load(f.ctx, s, active, nil), "load")
			if hs, want := f.holds(s), wantHolds(booking.HoldOf(active[0]), booking.HoldOf(active[1])); !slices.Equal(hs, want) {
				t.Errorf("holds after load = %+v, want %+v", hs, want)
			}
			rem, err := f.g.Remaining(f.ctx, []*booking.Session{s})
			testenv.Must(t, err, "remaining")
			if want := map[booking.Channel]int{booking.ChannelOnline: 4, booking.ChannelPhone: 1}; !maps.Equal(rem[0], want) {
				t.Errorf("remaining after load = %v, want %v", rem[0], want)
			}

			// Reserve: the lowest free slots, skipping the one SQL holds.
			r1 := f.reservation(s, newIdentityKey())
			slot1 := f.mustReserve(r1)
			r2 := f.reservation(s, newIdentityKey())
			slot2 := f.mustReserve(r2)
			if slot1 != 1 || slot2 != 3 {
				t.Errorf("slots = %d, %d; want 1, 3", slot1, slot2)
			}

			// Retry (same nonce) and replay (other nonce): same slot, nothing written.
			before := f.snapshot()
			if slot, replay, err := f.g.Reserve(f.ctx, r1); err != nil || replay || slot != slot1 {
				t.Errorf("retried Reserve = %d, replay %v, %v; want %d, replay false", slot, replay, err, slot1)
			}
			again := r1
			again.Nonce = testenv.Token()
			if slot, replay, err := f.g.Reserve(f.ctx, again); err != nil || !replay || slot != slot1 {
				t.Errorf("replayed Reserve = %d, replay %v, %v; want %d, replay true", slot, replay, err, slot1)
			}
			ofSQL := f.reservation(s, x)
			ofSQL.BookingID = active[0].ID
			if slot, replay, err := f.g.Reserve(f.ctx, ofSQL); err != nil || !replay || slot != 2 {
				t.Errorf("Reserve of SQL's booking id = %d, replay %v, %v; want 2, replay true", slot, replay, err)
			}
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("retry and replays wrote to Redis:%s", d)
			}

			// Rejections write nothing anywhere in the cluster.
			other := f.session(day(1), dept, online(1, past)) // same day and department, one slot
			f.mustReserve(f.reservation(other, newIdentityKey()))
			unloaded := f.newSession(day(1), booking.NewID(), online(1, past))
			barred := newIdentityKey()
			f.bar(barred, time.Now().Add(24*time.Hour))
			notReleased := f.reservation(s, newIdentityKey())
			notReleased.Channel = booking.ChannelPhone
			closed := f.reservation(other, newIdentityKey())
			closed.Channel = booking.ChannelPhone
			for _, tc := range []struct {
				name string
				r    booking.Reservation
				want error
			}{
				{"unknown session", f.reservation(unloaded, newIdentityKey()), booking.ErrSessionNotFound},
				{"channel absent", closed, booking.ErrChannelClosed},
				{"not released", notReleased, booking.ErrNotReleased},
				{"patient barred", f.reservation(s, barred), booking.ErrPatientBarred},
				{"already booked (held by SQL)", f.reservation(s, x), booking.ErrAlreadyBooked},
				{"same day and department", f.reservation(other, r1.IdentityKey), booking.ErrQuotaDayDept},
				{"sold out", f.reservation(other, newIdentityKey()), booking.ErrSoldOut},
			} {
				before := cf.snapshot(t)
				slot, replay, err := f.g.Reserve(f.ctx, tc.r)
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: Reserve = %d, replay %v, %v; want %v", tc.name, slot, replay, err, tc.want)
				}
				if d := diffSnapshots(before, cf.snapshot(t)); d != "" {
					t.Errorf("%s: a rejected Reserve wrote to Redis:%s", tc.name, d)
				}
			}

			// Release returns the slot; a second release changes nothing.
			how := booking.Release{ReturnSlot: true, Forget: true}
			testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r2, slot2), how), "release")
			before = f.snapshot()
			testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r2, slot2), how), "second release")
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("a second Release wrote to Redis:%s", d)
			}
			if free, want := f.free(s, booking.ChannelOnline), []string{"3", "4", "5"}; !slices.Equal(free, want) {
				t.Errorf("free pool after release = %v, want %v", free, want)
			}
			if f.exists(f.g.keys(f.hosp).record(r2.BookingID)) {
				t.Errorf("record of released %s (Forget) still exists", r2.BookingID)
			}

			// A hold still pending is not released; Confirm takes a hold
			// off the expired list; an abandoned hold shows up there.
			pending := f.reservation(s, newIdentityKey())
			pending.HoldFor = time.Hour
			pendingSlot := f.mustReserve(pending)
			before = f.snapshot()
			if err := f.g.Release(f.ctx, f.holdOf(pending, pendingSlot), booking.Release{ReturnSlot: true, OnlyIfExpired: true}); !errors.Is(err, booking.ErrHoldPending) {
				t.Errorf("release of a pending hold = %v, want %v", err, booking.ErrHoldPending)
			}
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("a skipped Release wrote to Redis:%s", d)
			}
			confirmed := f.reservation(s, newIdentityKey())
			confirmed.HoldFor = time.Millisecond
			confirmedSlot := f.mustReserve(confirmed)
			abandoned := f.reservation(s, newIdentityKey())
			abandoned.HoldFor = time.Millisecond
			abandonedSlot := f.mustReserve(abandoned)
			testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, confirmed.BookingID), "confirm")
			if hs, want := f.waitExpired(abandoned.BookingID), []booking.Hold{f.holdOf(abandoned, abandonedSlot)}; !slices.Equal(hs, want) {
				t.Errorf("expired = %+v, want %+v", hs, want)
			}

			// Reload from SQL, which has r1 and the confirmed booking too;
			// the abandoned hold is stale (and forgotten), the pending one
			// is stale but its commit may still be in flight.
			active = append(active,
				sqlBooking(t, s, r1.BookingID, slot1, booking.ChannelOnline, r1.IdentityKey),
				sqlBooking(t, s, confirmed.BookingID, confirmedSlot, booking.ChannelOnline, confirmed.IdentityKey))
			stale := []booking.StaleHold{
				{Hold: f.holdOf(abandoned, abandonedSlot), Forget: true},
				{Hold: f.holdOf(pending, pendingSlot)},
			}
			testenv.Must(t, f.g.Load(f.ctx, s, active, stale), "reload")
			want := wantHolds(booking.HoldOf(active[0]), booking.HoldOf(active[1]), booking.HoldOf(active[2]),
				booking.HoldOf(active[3]), f.holdOf(pending, pendingSlot))
			if hs := f.holds(s); !slices.Equal(hs, want) {
				t.Errorf("holds after reload = %+v, want %+v", hs, want)
			}
			if free, want := f.free(s, booking.ChannelOnline), []string{strconv.Itoa(abandonedSlot)}; !slices.Equal(free, want) {
				t.Errorf("free pool after reload = %v, want %v", free, want)
			}
			if f.exists(f.g.keys(f.hosp).record(abandoned.BookingID)) {
				t.Errorf("record of the forgotten stale hold %s still exists", abandoned.BookingID)
			}
			if hs, err := f.g.Expired(f.ctx, f.hosp, time.Now(), 100); err != nil || len(hs) != 0 {
				t.Errorf("expired after reload = %+v, %v; want none", hs, err)
			}
			sessions[i] = s
			wantRem[i] = map[booking.Channel]int{booking.ChannelOnline: 1, booking.ChannelPhone: 1}
		})
	}
	if t.Failed() {
		return
	}

	// Remaining over every hospital in one call: a pipeline spanning nodes.
	// A second session per hospital, listed after all the first ones, so
	// consecutive commands alternate between masters.
	for i, f := range cf.hosps {
		extra := on(t, f).session(day(2), booking.NewID(), online(3+i, past), phone(1+i, past))
		sessions = append(sessions, extra)
		wantRem = append(wantRem, map[booking.Channel]int{booking.ChannelOnline: 3 + i, booking.ChannelPhone: 1 + i})
	}
	rem, err := cf.g.Remaining(cf.ctx, sessions)
	testenv.Must(t, err, "remaining across hospitals")
	for i := range sessions {
		if !maps.Equal(rem[i], wantRem[i]) {
			t.Errorf("remaining of session %d (hospital %s) = %v, want %v", i, sessions[i].HospitalID, rem[i], wantRem[i])
		}
	}
}

// TestClusterReserveHammer races Reserve for two hospitals on different
// masters at once.
func TestClusterReserveHammer(t *testing.T) {
	const (
		slots   = 30
		perHosp = 150 // 300 goroutines in all
		reusers = 40  // per hospital, the first 2*reusers attempts come in pairs sharing an identity
	)
	cf := newClusterFixture(t, 2)
	if n := nodes(cf.hosps); n != 2 {
		t.Fatalf("hospitals on %d node(s), want 2", n)
	}
	sessions := make([]*booking.Session, len(cf.hosps))
	results := make([][]result, len(cf.hosps))
	reservations := make([][]booking.Reservation, len(cf.hosps))
	for h, f := range cf.hosps {
		sessions[h] = f.session(day(1), booking.NewID(), online(slots, past))
		iks := make([]string, perHosp-reusers)
		for i := range iks {
			iks[i] = newIdentityKey()
		}
		for j := range perHosp {
			reservations[h] = append(reservations[h], f.reservation(sessions[h], iks[max(j-reusers, j/2)]))
		}
		results[h] = make([]result, perHosp)
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	for j := range perHosp {
		for h, f := range cf.hosps { // interleaved: the two masters see traffic at once
			r := reservations[h][j]
			wg.Go(func() {
				<-start
				slot, replay, err := f.g.Reserve(f.ctx, r)
				if err == nil && replay {
					err = errors.New("unexpected replay")
				}
				results[h][j] = result{r, slot, err}
			})
		}
	}
	close(start)
	wg.Wait()

	for h, f := range cf.hosps {
		s := sessions[h]
		okSlots := map[int]string{}
		okByIdentity := map[string]int{}
		for _, res := range results[h] {
			switch {
			case res.err == nil:
				if prev, dup := okSlots[res.slot]; dup {
					t.Errorf("hospital %d: slot %d handed to %s and %s", h, res.slot, prev, res.r.BookingID)
				}
				if res.slot < 1 || res.slot > slots {
					t.Errorf("hospital %d: slot %d out of range", h, res.slot)
				}
				okSlots[res.slot] = res.r.BookingID
				okByIdentity[res.r.IdentityKey]++
			case errors.Is(res.err, booking.ErrSoldOut), errors.Is(res.err, booking.ErrAlreadyBooked):
			default:
				t.Errorf("hospital %d: Reserve(%s) = %v, want ok, sold_out or already_booked", h, res.r.BookingID, res.err)
			}
		}
		soldOut, booked := count(results[h], booking.ErrSoldOut), count(results[h], booking.ErrAlreadyBooked)
		t.Logf("hospital %d on %s: ok %d, already_booked %d, sold_out %d", h, f.rdb.Options().Addr, len(okSlots), booked, soldOut)
		if len(okSlots) != slots {
			t.Errorf("hospital %d: successful reservations = %d, want %d", h, len(okSlots), slots)
		}
		if got := len(okSlots) + soldOut + booked; got != perHosp {
			t.Errorf("hospital %d: %d answers accounted for, want %d", h, got, perHosp)
		}
		for ik, n := range okByIdentity {
			if n > 1 {
				t.Errorf("hospital %d: identity %s got %d slots, want at most 1", h, ik, n)
			}
		}
		held, err := f.rdb.HGetAll(f.ctx, f.g.keys(f.hosp).held(s.ID)).Result()
		testenv.Must(t, err, "held")
		if len(held) != slots {
			t.Errorf("hospital %d: held entries = %d, want %d", h, len(held), slots)
		}
		for slotStr, bid := range held {
			slot, _ := strconv.Atoi(slotStr)
			if okSlots[slot] != bid {
				t.Errorf("hospital %d: held[%d] = %s, want %s", h, slot, bid, okSlots[slot])
			}
		}
		hs := f.holds(s)
		if len(hs) != slots {
			t.Errorf("hospital %d: Holds lists %d, want %d", h, len(hs), slots)
		}
		for _, hold := range hs {
			if okSlots[hold.SlotNo] != hold.BookingID {
				t.Errorf("hospital %d: hold %+v, want booking %s", h, hold, okSlots[hold.SlotNo])
			}
		}
		if free := f.free(s, booking.ChannelOnline); len(free) != 0 {
			t.Errorf("hospital %d: free pool = %v, want empty", h, free)
		}
	}
	rem, err := cf.g.Remaining(cf.ctx, sessions)
	testenv.Must(t, err, "remaining")
	for h := range sessions {
		if want := map[booking.Channel]int{booking.ChannelOnline: 0}; !maps.Equal(rem[h], want) {
			t.Errorf("hospital %d: remaining = %v, want %v", h, rem[h], want)
		}
	}
}

// TestClusterKeysOfHospitalShareSlot writes every kind of key for hospitals
// on different masters, then checks with CLUSTER KEYSLOT that all keys of a
// hospital map to one slot, and that they live on the master serving it.
func TestClusterKeysOfHospitalShareSlot(t *testing.T) {
	cf := newClusterFixture(t, 3)
	nodeOf := map[string]string{}
	for _, base := range cf.hosps {
		f := on(t, base)
		nodeOf[f.hosp] = f.rdb.Options().Addr
		s := f.session(day(1), booking.NewID(), online(3, past), phone(2, past))
		r := f.reservation(s, newIdentityKey())
		slot := f.mustReserve(r)
		r2 := f.reservation(s, newIdentityKey())
		r2.Channel = booking.ChannelPhone
		slot2 := f.mustReserve(r2)
		testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r2, slot2), booking.Release{ReturnSlot: true}), "release")
		f.bar(newIdentityKey(), time.Now().Add(time.Hour))
		active := []booking.Booking{sqlBooking(t, s, booking.NewID(), 3, booking.ChannelOnline, newIdentityKey())}
		stale := []booking.StaleHold{{Hold: f.holdOf(r, slot)}}
		testenv.Must(t, f.g.Load(f.ctx, s, active, stale), "load")
		f.mustReserve(f.reservation(s, newIdentityKey())) // leaves a pending entry
		lot := f.session(day(1), booking.NewID(), lottery(2, past, future, true, false))
		_, err := f.g.Enter(f.ctx, f.reservation(lot, newIdentityKey())) // a lottery entry, pending
		testenv.Must(t, err, "enter")
	}

	byHosp := map[string][]string{}
	for addr, keys := range cf.keysByMaster() {
		for _, k := range keys {
			h := hashTag(k)
			if _, ours := nodeOf[h]; !ours {
				t.Errorf("key %s on %s: hash tag %q is none of the test's hospitals", k, addr, h)
				continue
			}
			if nodeOf[h] != addr {
				t.Errorf("key %s lives on %s, want %s", k, addr, nodeOf[h])
			}
			byHosp[h] = append(byHosp[h], k)
		}
	}
	distinct := map[int64]bool{}
	for h, want := range cf.slots {
		kinds := map[string]bool{}
		for _, k := range byHosp[h] {
			slot, err := cf.rdb.ClusterKeySlot(cf.ctx, k).Result()
			testenv.Must(t, err, "cluster keyslot %s", k)
			if slot != want {
				t.Errorf("CLUSTER KEYSLOT %s = %d, want %d (the slot of hospital %s)", k, slot, want, h)
			}
			kinds[keyKind(k)] = true
		}
		distinct[want] = true
		wantKinds := []string{"bar", "booking", "entries", "entry", "entry_pending", "free", "held", "identity", "loaded", "meta", "pending"}
		if got := slices.Sorted(maps.Keys(kinds)); !slices.Equal(got, wantKinds) {
			t.Errorf("hospital %s: key kinds = %v, want %v", h, got, wantKinds)
		}
	}
	if len(distinct) < 2 || nodes(cf.hosps) < 2 {
		t.Errorf("hospitals use %d slot(s) on %d node(s), want at least 2 of each", len(distinct), nodes(cf.hosps))
	}
	// Each mark names the run id of its own node, so every state reads whole.
	var ids []string
	for h := range cf.slots {
		ids = append(ids, h)
	}
	st, err := cf.g.States(cf.ctx, ids)
	testenv.Must(t, err, "states")
	for i, h := range ids {
		if st[i] != booking.StateWhole {
			t.Errorf("hospital %s: state %s, want whole", h, st[i])
		}
	}
}

// keyKind names a key's role in the layout of keys.go.
func keyKind(key string) string {
	_, rest, _ := strings.Cut(key, "}:")
	switch {
	case rest == "pending", rest == "loaded", rest == "reloading":
		return rest
	case rest == "epending":
		return "entry_pending"
	case strings.HasPrefix(rest, "e:"):
		return "entry"
	case strings.HasPrefix(rest, "s:") && strings.HasSuffix(rest, ":entries"):
		return "entries"
	case strings.HasPrefix(rest, "b:"):
		return "booking"
	case strings.HasPrefix(rest, "i:"):
		return "identity"
	case strings.HasPrefix(rest, "bar:"):
		return "bar"
	case strings.HasPrefix(rest, "s:") && strings.Contains(rest, ":free:"):
		return "free"
	case strings.HasPrefix(rest, "s:") && strings.HasSuffix(rest, ":held"):
		return "held"
	case strings.HasPrefix(rest, "s:"):
		return "meta"
	}
	return "unknown: " + rest
}

// TestClusterEnterCountsTheSharedLimits: on a cluster the limits' keys live
// in other slots than the hospital's, so Enter counts them on their own
// before enter.lua; the counts and the refusal are the single Redis's.
func TestClusterEnterCountsTheSharedLimits(t *testing.T) {
	cf := newClusterFixture(t, 1)
	sharedLimitsScenario(t, on(t, cf.hosps[0]), cf.rdb, entering)
}

// TestClusterReserveCountsTheSharedLimits: the same for a booking attempt's
// Reserve.
func TestClusterReserveCountsTheSharedLimits(t *testing.T) {
	cf := newClusterFixture(t, 1)
	sharedLimitsScenario(t, on(t, cf.hosps[0]), cf.rdb, reserving)
}
