package cockroach_test

import (
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// entryOf is an online entry of patient p in session s.
func entryOf(s booking.Session, p booking.Patient) (booking.Entry, booking.Event) {
	at := now()
	e := booking.Entry{ID: booking.NewID(), SessionID: s.ID, HospitalID: s.HospitalID, Channel: booking.ChannelOnline,
		IdentityID: p.IdentityID, PatientID: p.ID, AccountID: p.AccountID, Status: booking.EntryEntered, CreatedAt: at}
	ev := booking.Event{ID: booking.NewID(), TS: at, Type: booking.EventLotteryEntered, AccountID: p.AccountID,
		PatientID: p.ID, IdentityID: p.IdentityID, BookingID: e.ID, SessionID: s.ID, HospitalID: s.HospitalID,
		Channel: booking.ChannelOnline, IP: "192.0.2.7"}
	return e, ev
}

func TestLotteryEntriesStore(t *testing.T) {
	w := newWorld(t) // s2 is a lottery session
	q, _ := w.s2.Channel(booking.ChannelOnline)
	seed := booking.LotterySeed{PoolKey: booking.PoolKey{SessionID: w.s2.ID, Channel: booking.ChannelOnline},
		HospitalID: w.hosp.ID, OpensAt: q.OpensAt, DrawAt: q.DrawAt, Sealed: []byte("sealed"),
		Commitment: commitV2(t, w.s2.ID, []byte("seed")), Recipe: booking.CommitV2, CreatedAt: now()}
	testenv.Must(t, w.st.CommitSeeds(w.ctx, []booking.LotterySeed{seed}), "commit seeds")
	other := seed
	other.Commitment = commitV2(t, w.s2.ID, []byte("another seed"))
	testenv.Must(t, w.st.CommitSeeds(w.ctx, []booking.LotterySeed{other}), "commit seeds again")
	pools, err := w.st.LotteryPools(w.ctx, []string{w.s2.ID})
	if err != nil || len(pools) != 1 || string(pools[0].Commitment) != string(seed.Commitment) || pools[0].Status != booking.DrawOpen {
		t.Fatalf("LotteryPools = %+v, %v; want the first seed's commitment, open", pools, err)
	}

	_, alice := w.patientOf()
	_, bob := w.patientOf()
	ea, eva := entryOf(w.s2, alice)
	eb, evb := entryOf(w.s2, bob)
	dup, evd := entryOf(w.s2, alice) // alice again, another request
	reuse, evr := entryOf(w.s2, bob)
	reuse.ID = ea.ID // alice's id for bob: a reused idempotency key
	answers, err := w.st.InsertEntries(w.ctx, []booking.Entry{ea, eb, dup, ea, reuse}, []booking.Event{eva, evb, evd, eva, evr})
	testenv.Must(t, err, "insert entries")
	want := []error{nil, nil, booking.ErrAlreadyEntered, nil, booking.ErrIdempotencyReuse}
	for i := range want {
		if !errors.Is(answers[i], want[i]) || (want[i] == nil) != (answers[i] == nil) {
			t.Errorf("answer %d = %v, want %v", i, answers[i], want[i])
		}
	}
	if n := w.count(`SELECT count(*) FROM lottery_entries WHERE session_id = $1`, w.s2.ID); n != 2 {
		t.Errorf("%d entries stored, want 2", n)
	}
	if n := w.count(`SELECT count(*) FROM booking_events WHERE type = 'lottery_entered' AND session_id = $1`, w.s2.ID); n != 2 {
		t.Errorf("%d lottery_entered events, want 2 (one per entry that went in)", n)
	}
	got, err := w.st.Entry(w.ctx, ea.ID)
	if err != nil || got.IdentityKey != alice.IdentityKey || got.Status != booking.EntryEntered || got.NumberMasked == "" {
		t.Errorf("Entry = %+v, %v", got, err)
	}
	_, err = w.st.Entry(w.ctx, booking.NewID())
	if !errors.Is(err, booking.ErrEntryNotFound) {
		t.Errorf("unknown entry: %v, want entry_not_found", err)
	}

	// Once the draw claims the pool, entries and withdrawals are refused.
	at := now()
	c, ok, err := w.st.ClaimDraw(w.ctx, seed.PoolKey, "instance-1", at, at, at.Add(time.Minute))
	if err != nil || !ok || c.Stage != booking.DrawStageNone || string(c.Sealed) != "sealed" {
		t.Fatalf("ClaimDraw = %+v, %v, %v", c, ok, err)
	}
	if _, ok, _ := w.st.ClaimDraw(w.ctx, seed.PoolKey, "instance-2", at, at, at.Add(time.Minute)); ok {
		t.Error("a second instance claimed the draw while the lease holds")
	}
	if _, ok, _ := w.st.ClaimDraw(w.ctx, seed.PoolKey, "instance-2", at, at.Add(2*time.Minute), at.Add(3*time.Minute)); !ok {
		t.Error("a second instance could not take over after the lease ran out")
	}
	_, carol := w.patientOf()
	ec, evc := entryOf(w.s2, carol)
	answers, err = w.st.InsertEntries(w.ctx, []booking.Entry{ec}, []booking.Event{evc})
	if err != nil || !errors.Is(answers[0], booking.ErrEntryClosed) {
		t.Errorf("entry after the claim = %v, %v; want entry_closed", answers, err)
	}
	_, err = w.st.WithdrawEntry(w.ctx, eb.ID, now(), evb, nil)
	if !errors.Is(err, booking.ErrEntryClosed) {
		t.Errorf("withdrawal after the claim: %v, want entry_closed", err)
	}
	err = w.st.SaveRanking(w.ctx, seed.PoolKey, "instance-1", booking.Ranking{}, at.Add(time.Hour))
	if !errors.Is(err, booking.ErrLeaseLost) {
		t.Errorf("a stage by the instance that lost the lease: %v, want lease lost", err)
	}
}

// commitV2 is the online pool of session's commitment of seed.
func commitV2(t *testing.T, session string, seed []byte) []byte {
	t.Helper()
	c, err := booking.Commitment(booking.CommitV2, session, booking.ChannelOnline, seed)
	testenv.Must(t, err, "commitment")
	return c
}

// TestDrawLeftToANewerBuild: a pool whose seed a newer build sealed, or
// committed by a recipe this build does not know, is never claimed by this
// build's draw (review21b H1: an older instance claimed such a pool after a
// rollback, failed to open its seed every 2 s with "message authentication
// failed" and renewed its lease, so no instance that could draw it ever got
// it until the old one was stopped). Known values are claimed as before.
func TestDrawLeftToANewerBuild(t *testing.T) {
	w := newWorld(t) // s2 is a lottery session
	q, _ := w.s2.Channel(booking.ChannelOnline)
	seed := booking.LotterySeed{PoolKey: booking.PoolKey{SessionID: w.s2.ID, Channel: booking.ChannelOnline},
		HospitalID: w.hosp.ID, OpensAt: q.OpensAt, DrawAt: q.DrawAt, Sealed: []byte("sealed"), Sealing: booking.SealedForPool,
		Commitment: commitV2(t, w.s2.ID, []byte("seed")), Recipe: booking.CommitV2, CreatedAt: now()}
	testenv.Must(t, w.st.CommitSeeds(w.ctx, []booking.LotterySeed{seed}), "commit the seed")
	set := func(sealing, recipe int) {
		t.Helper()
		_, err := w.db.Pool().Exec(w.ctx, `UPDATE lottery_pools SET seed_sealing = $2, commitment_recipe = $3 WHERE session_id = $1`,
			w.s2.ID, sealing, recipe)
		testenv.Must(t, err, "set the pool's sealing and recipe")
	}
	at := now()
	for _, newer := range []struct{ sealing, recipe int }{{booking.NewestSealing + 1, booking.NewestRecipe}, {booking.NewestSealing, booking.NewestRecipe + 1}} {
		set(newer.sealing, newer.recipe)
		if c, ok, err := w.st.ClaimDraw(w.ctx, seed.PoolKey, "older-instance", at, at, at.Add(time.Minute)); err != nil || ok {
			t.Errorf("sealing %d, recipe %d: ClaimDraw = %+v, %v, %v; want the pool left to a newer build", newer.sealing, newer.recipe, c, ok, err)
		}
	}
	set(booking.NewestSealing, booking.NewestRecipe)
	if c, ok, err := w.st.ClaimDraw(w.ctx, seed.PoolKey, "instance", at, at, at.Add(time.Minute)); err != nil || !ok {
		t.Errorf("the newest sealing and recipe this build knows: ClaimDraw = %+v, %v, %v; want claimed", c, ok, err)
	}
}
