package booking_test

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// review20 H1: a database insider copied a drawn pool's sealed seed and
// commitment into an open pool's row, knew the open pool's seed, steered
// its draw by adding one entry, and every check passed. A seed is sealed
// for its pool, a commitment is used once, and a draw refuses a pool whose
// entries were admitted under another commitment.
func TestLotteryCopiedSeedRefused(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	a := h.lotterySession(lotteryOpts{online: 2, draw: time.Now().Add(5 * time.Minute)})
	b := h.lotterySession(lotteryOpts{online: 2, period: "afternoon", draw: time.Now().Add(30 * time.Minute)})
	for _, u := range h.users(3, 1) {
		h.mustEnter(u, 0, a)
	}
	qb, _ := b.Channel(booking.ChannelOnline)
	for _, u := range h.users(3, 1) {
		// The entrant's receipt holds the commitment in force.
		if e := h.mustEnter(u, 0, b); string(e.Commitment) != string(qb.Draw.Commitment) {
			t.Errorf("entry %s names commitment %x, the pool's is %x", e.ID, e.Commitment, qb.Draw.Commitment)
		}
	}
	if n := h.auditCount("lottery_seed_committed"); n != 2 {
		t.Errorf("%d lottery_seed_committed audit rows, want 2 (one a pool)", n)
	}
	if n := h.drawAll(h.svc, a); n != 1 {
		t.Fatalf("drew %d pools, want session A's", n)
	}
	h.checkDraw(a, 2, 3) // an honest draw still verifies
	db := h.stack.DB.Pool()

	// The reproduction: both columns copied at once.
	_, err := db.Exec(h.ctx, `UPDATE lottery_pools b SET seed_sealed = a.seed_sealed, commitment = a.commitment
		FROM lottery_pools a WHERE a.session_id = $1 AND b.session_id = $2 AND a.channel = 'online' AND b.channel = 'online'`, a.ID, b.ID)
	if err == nil {
		t.Errorf("a drawn pool's commitment was copied to an open pool's row")
	}
	// With A's row changed first (its public record then changes), the
	// copied seal does not open for B.
	_, err = db.Exec(h.ctx, `UPDATE lottery_pools SET commitment = $2 WHERE session_id = $1 AND channel = 'online'`, a.ID, []byte(strings.Repeat("x", 32)))
	testenv.Must(t, err, "free A's commitment")
	_, err = db.Exec(h.ctx, `UPDATE lottery_pools b SET seed_sealed = a.seed_sealed, commitment = $3
		FROM lottery_pools a WHERE a.session_id = $1 AND b.session_id = $2 AND a.channel = 'online' AND b.channel = 'online'`,
		a.ID, b.ID, h.commitment(booking.CommitV2, b.ID, h.drawn(a)[0].Seed))
	testenv.Must(t, err, "copy A's seal to B")
	h.wantUndrawn(b, "a copied seal")

	// A master-key holder can seal a seed for B; the entries admitted
	// under B's first commitment still name it, and the draw refuses.
	seed := sha256.Sum256([]byte("chosen"))
	_, err = db.Exec(h.ctx, `UPDATE lottery_pools SET seed_sealed = $2, commitment = $3 WHERE session_id = $1 AND channel = 'online'`,
		b.ID, h.stack.Keys.Seal(booking.SeedPurpose(b.ID, booking.ChannelOnline), string(seed[:])), h.commitment(booking.CommitV2, b.ID, seed[:]))
	testenv.Must(t, err, "reseal B")
	h.wantUndrawn(b, "a commitment other than its entries'")
}

// review20 H1 fix 1b: a new pool's commitment names its pool — recipe v2,
// SHA-256("fairslot commit v2\n" + session + "\n" + channel + "\n" + seed),
// computed here as an outsider's script would, not by booking.Commitment —
// and the public record says the recipe. A row whose recipe is not the one
// its commitment was made by, or a purpose-only seal under a v2 commitment,
// is refused: no recipe is tried after another.
func TestLotteryCommitmentNamesItsPool(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	for _, u := range h.users(2, 1) {
		h.mustEnter(u, 0, s)
	}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	d := h.checkDraw(s, 1, 2)
	want := sha256.Sum256(append([]byte("fairslot commit v2\n"+s.ID+"\nonline\n"), d.Seed...))
	if d.Recipe != booking.CommitV2 || string(d.Commitment) != string(want[:]) {
		t.Errorf("published commitment %x by recipe %d; want %x by recipe 2 (bound to the pool)", d.Commitment, d.Recipe, want)
	}
	// The record read as recipe 1 does not verify: SHA-256(seed) is not
	// the commitment.
	d.Recipe = booking.CommitV1
	if err := booking.VerifyDraw(d, h.booked(d)); err == nil {
		t.Errorf("VerifyDraw accepted a v2 commitment read as v1")
	}

	// An undrawn pool whose row says v1 for a v2 commitment, or a
	// purpose-only seal under a v2 commitment, is refused.
	db := h.stack.DB.Pool()
	for i, change := range []string{
		`UPDATE lottery_pools SET commitment_recipe = 1 WHERE session_id = $1`,
		`UPDATE lottery_pools SET seed_sealing = 1, seed_sealed = $2, commitment = $3 WHERE session_id = $1`,
	} {
		o := h.lotterySession(lotteryOpts{online: 1, period: []string{"afternoon", "evening"}[i]})
		h.mustEnter(h.users(1, 1)[0], 0, o)
		seed := sha256.Sum256([]byte(change))
		args := []any{o.ID}
		if i == 1 {
			args = append(args, h.stack.Keys.Seal("lottery_seed", string(seed[:])), h.commitment(booking.CommitV2, o.ID, seed[:]))
			_, err := db.Exec(h.ctx, `UPDATE lottery_entries SET commitment = NULL WHERE session_id = $1`, o.ID)
			testenv.Must(t, err, "entries naming no commitment")
		}
		_, err := db.Exec(h.ctx, change, args...)
		testenv.Must(t, err, "change %d", i)
		h.wantUndrawn(o, change)
	}
}

// wantUndrawn runs the lottery job past s's draw time and wants it to
// refuse s's pool: an error, and the pool not drawn.
func (h *harness) wantUndrawn(s *booking.Session, what string) {
	h.t.Helper()
	var last time.Time
	for _, q := range s.Channels {
		last = q.DrawAt
	}
	defer h.clock.at(last.Add(3 * time.Second))()
	n, err := h.svc.RunLottery(h.ctx)
	if err == nil || n != 0 {
		h.t.Errorf("the lottery job with %s: drew %d pools, err %v; want it refused", what, n, err)
	}
	if ds := h.drawn(s); len(ds) == 0 || ds[0].Status == booking.DrawDrawn {
		h.t.Errorf("the pool with %s was drawn (%d draws listed)", what, len(ds))
	}
}

// A pool committed before the seal named its pool (migration 0060 marks its
// row sealing 1), with entries that name no commitment, still draws.
func TestLotteryOldSealStillDraws(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	for _, u := range h.users(2, 1) {
		h.mustEnter(u, 0, s)
	}
	seed := sha256.Sum256([]byte("before the upgrade"))
	db := h.stack.DB.Pool()
	_, err := db.Exec(h.ctx, `UPDATE lottery_pools SET seed_sealing = 1, seed_sealed = $2, commitment = $3, commitment_recipe = 1 WHERE session_id = $1`,
		s.ID, h.stack.Keys.Seal("lottery_seed", string(seed[:])), h.commitment(booking.CommitV1, s.ID, seed[:]))
	testenv.Must(t, err, "an old pool's row")
	_, err = db.Exec(h.ctx, `UPDATE lottery_entries SET commitment = NULL WHERE session_id = $1`, s.ID)
	testenv.Must(t, err, "old entries")
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if d := h.checkDraw(s, 1, 2); string(d.Seed) != string(seed[:]) {
		t.Errorf("drawn with seed %x, want the old pool's %x", d.Seed, seed)
	}
}

// TestLotteryEntryShowsItsWaitlistPlace (review20 L2): a waitlisted
// entry's answer tells its place in the line (not its rank in the draw).
func TestLotteryEntryShowsItsWaitlistPlace(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	users := h.users(3, 1)
	ids := make([]string, len(users))
	for i, u := range users {
		r, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID,
			Channel: booking.ChannelOnline, Waitlist: true, Origin: booking.Origin{IP: "203.0.113.9"}})
		testenv.Must(t, err, "enter %d", i)
		ids[i] = r.Entry.ID
	}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	waiting := 0
	for i, u := range users {
		e, err := h.svc.Entry(h.ctx, u.actor, ids[i])
		testenv.Must(t, err, "entry %d", i)
		switch e.Status {
		case booking.EntryWon:
		case booking.EntryWaitlisted:
			waiting++
			// rank 2 is first in line, rank 3 second: the winner is not in it.
			if e.WaitlistStatus != booking.WaitlistWaiting || e.WaitlistPosition != e.Rank-1 {
				t.Errorf("entry of rank %d: waitlist %q at %d; want waiting at %d", e.Rank, e.WaitlistStatus, e.WaitlistPosition, e.Rank-1)
			}
		default:
			t.Errorf("entry %d is %s", i, e.Status)
		}
		list, err := h.svc.Entries(h.ctx, u.actor)
		if err != nil || len(list) != 1 || list[0].WaitlistPosition != e.WaitlistPosition || list[0].WaitlistStatus != e.WaitlistStatus {
			t.Errorf("Entries of %d = %+v, %v; want the entry's waitlist place", i, list, err)
		}
	}
	if waiting != 2 {
		t.Errorf("%d entries waitlisted, want 2", waiting)
	}
}

// commitment is the online pool of session's commitment of seed by recipe.
func (h *harness) commitment(recipe int, session string, seed []byte) []byte {
	h.t.Helper()
	c, err := booking.Commitment(recipe, session, booking.ChannelOnline, seed)
	testenv.Must(h.t, err, "commitment")
	return c
}

// review20 M3: the public record says how many entries in the draw were of
// persons whose name nobody had verified, naming none of them.
func TestLotteryRecordCountsUnverified(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	users := h.users(3, 1)
	for _, u := range users {
		h.mustEnter(u, 0, s)
	}
	if d := h.drawn(s)[0]; d.Unverified != nil {
		t.Errorf("before the draw: unverified %d, want none said", *d.Unverified)
	}
	// One of them was verified (at the desk, say) before the draw.
	_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE identities SET name_verified_at = now() WHERE id = $1`, users[0].patients[0].IdentityID)
	testenv.Must(t, err, "verify one")
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if d := h.checkDraw(s, 1, 3); d.Unverified == nil || *d.Unverified != 2 {
		t.Errorf("published unverified = %v, want 2 of the 3 eligible", d.Unverified)
	}
}
