package booking_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// The entry memo (entrymemo.go) over the fakes: a person's repeat attempts
// on a lottery pool are answered already_entered from memory, and never
// when the person could enter (withdrawn here, or a withdrawal racing the
// answer), nor past the draw time or the memo's time.

// instance is a second Service over the world's store and adm (or another
// Admission in front of them), its catalog loaded: another instance.
func (w *world) instance(adm booking.Admission, cfg booking.Config) *booking.Service {
	w.t.Helper()
	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg.Now, cfg.PasswordIterations = w.clock.Now, 1000
	svc, err := booking.NewService(cfg, w.store, adm, keys, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(svc.Close)
	if _, err := svc.Refresh(w.ctx); err != nil {
		w.t.Fatalf("refresh: %v", err)
	}
	return svc
}

// twoInstances is a world and a second instance over its fakes, both with
// a 10 s entry memo, a lottery session drawing in draws, and a person.
func twoInstances(t *testing.T, draws time.Duration) (*world, *booking.Service, string, person) {
	t.Helper()
	w := newWorld(t, booking.DefaultPolicy, booking.Config{EntryMemoFor: 10 * time.Second})
	now := w.clock.Now()
	sid := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(draws))
	return w, w.instance(w.adm, booking.Config{EntryMemoFor: 10 * time.Second}), sid, w.person()
}

func attemptOn(svc *booking.Service, p person, sessionID, idemKey string) (booking.Result, error) {
	return svc.Attempt(context.Background(), p.actor, booking.BookRequest{SessionID: sessionID, PatientID: p.patient.ID,
		Channel: booking.ChannelOnline, IdempotencyKey: idemKey})
}

// wantEnters checks how many Enter calls reached admission so far.
func (w *world) wantEnters(what string, want int) {
	w.t.Helper()
	if got := w.adm.Enters(); got != want {
		w.t.Errorf("%s: %d calls reached admission, want %d", what, got, want)
	}
}

func TestRuleEntryMemoAnswersRepeats(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	now := w.clock.Now()
	sid := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(2*time.Hour))
	p, q := w.person(), w.person()

	r, err := w.enter(p, sid)
	if err != nil || !r.Entered {
		t.Fatalf("enter = %+v, %v; want an entry", r, err)
	}
	w.wantEnters("the entry", 1)
	_, err = w.enter(p, sid)
	wantErr(t, "a repeat", err, booking.ErrAlreadyEntered)
	w.wantEnters("a repeat after a 202", 1)
	// The HTTP layer asks before its shared rate limits.
	req := booking.BookRequest{SessionID: sid, PatientID: p.patient.ID, Channel: booking.ChannelOnline}
	wantErr(t, "a repeat asked before the rate limits", w.svc.KnownRefusalOf(p.actor, &req), booking.ErrAlreadyEntered)
	if got := w.svc.KnownEntries(); got != 2 {
		t.Errorf("answers from memory = %d, want 2", got)
	}
	// Another account naming p's patient learns nothing from memory.
	other := booking.BookRequest{SessionID: sid, PatientID: p.patient.ID, Channel: booking.ChannelOnline}
	if err := w.svc.KnownRefusalOf(q.actor, &other); err != nil {
		t.Errorf("another account's attempt on p's patient answered %v from memory, want it asked through", err)
	}
	// A keyed attempt may be the entry's own retry: it asks admission.
	_, err = attemptOn(w.svc, p, sid, "key-1")
	wantErr(t, "a keyed repeat", err, booking.ErrAlreadyEntered)
	w.wantEnters("a keyed repeat", 2)
	// Someone else is not remembered.
	if r, err := w.enter(q, sid); err != nil || !r.Entered {
		t.Fatalf("q's entry = %+v, %v", r, err)
	}
	w.wantEnters("q's entry", 3)

	// Withdrawn on this instance, the person enters again at once.
	if _, err := w.svc.WithdrawEntry(w.ctx, p.actor, r.Entry.ID, booking.Origin{}); err != nil {
		t.Fatal(err)
	}
	again, err := w.enter(p, sid)
	if err != nil || !again.Entered {
		t.Fatalf("entering again after a withdrawal = %+v, %v; want a 202", again, err)
	}
	w.wantEnters("entering again", 4)
}

// A refusal by admission is remembered too; nothing is answered from memory
// later than EntryMemoFor after admission or the 202, nor at the draw time.
func TestRuleEntryMemoBounds(t *testing.T) {
	w, other, sid, p := twoInstances(t, time.Minute)

	if r, err := attemptOn(other, p, sid, ""); err != nil || !r.Entered {
		t.Fatalf("enter on the other instance = %+v, %v", r, err)
	}
	// Each step: the clock moves on, p tries again and is refused; the
	// calls that reached admission so far.
	for _, st := range []struct {
		after  time.Duration
		what   string
		enters int
	}{
		{0, "admission's refusal", 2},
		{9 * time.Second, "a repeat 9 s later, from memory", 2},
		{time.Second, "a repeat at EntryMemoFor, asked again", 3},
		// Remembered 5 s before the draw: until the draw only.
		{45 * time.Second, "a repeat 5 s before the draw, asked again", 4},
		{4 * time.Second, "a repeat 1 s before the draw, from memory", 4},
	} {
		w.clock.Advance(st.after)
		_, err := w.enter(p, sid)
		wantErr(t, st.what, err, booking.ErrAlreadyEntered)
		w.wantEnters(st.what, st.enters)
	}
	w.clock.Advance(time.Second)
	reserves := w.adm.Reserves()
	_, err := w.enter(p, sid)
	if errorsIsEntered(err) {
		t.Errorf("an attempt at the draw time answered %v; want the pool's first-come answer", err)
	}
	if w.adm.Reserves() != reserves+1 {
		t.Errorf("an attempt at the draw time did not reach admission as a booking attempt")
	}

	// Off: every repeat asks admission.
	off := newWorld(t, booking.DefaultPolicy, booking.Config{EntryMemoFor: -1})
	now := off.clock.Now()
	sid = off.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(time.Minute))
	p = off.person()
	for i := range 3 {
		_, err := off.enter(p, sid)
		if i > 0 {
			wantErr(t, "a repeat with the memo off", err, booking.ErrAlreadyEntered)
		}
	}
	off.wantEnters("three attempts with the memo off", 3)
}

func errorsIsEntered(err error) bool {
	e, ok := booking.AsError(err)
	return ok && e.Code == booking.ErrAlreadyEntered.Code
}

// A withdrawal on another instance is not seen here for at most
// EntryMemoFor: the person is refused already_entered meanwhile (as
// admission refuses one whose entry's instance crashed before its commit,
// for HoldFor), never given a second entry.
func TestRuleEntryMemoAcrossInstances(t *testing.T) {
	w, other, sid, p := twoInstances(t, time.Hour)

	r, err := w.enter(p, sid)
	if err != nil || !r.Entered {
		t.Fatalf("enter = %+v, %v", r, err)
	}
	if _, err := other.WithdrawEntry(w.ctx, p.actor, r.Entry.ID, booking.Origin{}); err != nil {
		t.Fatal(err)
	}
	// The memo's already_entered, explained, shows no entry of the
	// account's own: the uniform refusal (byothers.go), still no entry.
	_, err = w.enter(p, sid)
	wantUniform(t, "entering again here, within EntryMemoFor of the 202", err)
	if r, err := attemptOn(other, p, sid, ""); err != nil || !r.Entered {
		t.Fatalf("entering again on the withdrawing instance = %+v, %v; want a 202", r, err)
	}
	// Entered again (on the other instance): still one live entry each way.
	w.clock.Advance(10 * time.Second)
	_, err = w.enter(p, sid)
	wantErr(t, "a repeat here after EntryMemoFor, asked of admission", err, booking.ErrAlreadyEntered)
	w.wantEnters("after EntryMemoFor", 3)
	if n := liveEntries(t, w, p, sid); n != 1 {
		t.Errorf("%d live entries of the person, want 1", n)
	}
}

func liveEntries(t *testing.T, w *world, p person, sid string) int {
	t.Helper()
	n := 0
	es, err := w.store.EntriesOfAccount(w.ctx, p.actor.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.SessionID == sid && e.Status == booking.EntryEntered {
			n++
		}
	}
	return n
}

// racingAdmission withdraws an entry right after admission refused a
// repeat already_entered and before the Service has its answer: the
// refusal must not be remembered, or the person would be refused after the
// withdrawal.
type racingAdmission struct {
	booking.Admission
	race func()
}

func (a *racingAdmission) Enter(ctx context.Context, r booking.Reservation) (bool, error) {
	replay, err := a.Admission.Enter(ctx, r)
	if race := a.race; race != nil && errorsIsEntered(err) {
		a.race = nil
		race()
	}
	return replay, err
}

func TestRuleEntryMemoWithdrawalRacingARefusal(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	now := w.clock.Now()
	sid := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(time.Hour))
	p := w.person()
	racing := &racingAdmission{Admission: w.adm}
	here := w.instance(racing, booking.Config{})

	r, err := w.enter(p, sid) // on the world's instance: here knows nothing
	if err != nil || !r.Entered {
		t.Fatalf("enter = %+v, %v", r, err)
	}
	racing.race = func() {
		if _, err := here.WithdrawEntry(w.ctx, p.actor, r.Entry.ID, booking.Origin{}); err != nil {
			t.Errorf("withdraw: %v", err)
		}
	}
	_, err = attemptOn(here, p, sid, "")
	// Explained after the withdrawal: no entry of the account's own.
	wantUniform(t, "the repeat the withdrawal raced", err)
	again, err := attemptOn(here, p, sid, "")
	if err != nil || !again.Entered {
		t.Fatalf("entering after the withdrawal = %+v, %v; want a 202, not a refusal remembered across the withdrawal", again, err)
	}
}

// An already_entered that admission answered here and that explainRefusal
// showed to be the account's own entry (made on another instance) lets the
// memo answer the account's next repeat before the shared limits.
func TestRuleEntryMemoOwnRefusal(t *testing.T) {
	w, other, sid, p := twoInstances(t, time.Hour)
	if r, err := attemptOn(other, p, sid, ""); err != nil || !r.Entered {
		t.Fatalf("enter on the other instance = %+v, %v", r, err)
	}
	_, err := w.enter(p, sid)
	wantErr(t, "admission's refusal here, explained as the account's own", err, booking.ErrAlreadyEntered)
	req := booking.BookRequest{SessionID: sid, PatientID: p.patient.ID, Channel: booking.ChannelOnline}
	wantErr(t, "a repeat asked before the rate limits", w.svc.KnownRefusalOf(p.actor, &req), booking.ErrAlreadyEntered)
	w.wantEnters("the entry and admission's refusal", 2)
}
