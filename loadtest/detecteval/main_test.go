package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
	"fairslot/loadtest/detecteval/heldout"
	"fairslot/loadtest/detecteval/labels"
	"fairslot/loadtest/detecteval/synth"
)

// trace is one small generated trace: one hospital, 1,200 families and 8%
// scalpers, about 30,000 events.
func trace(t *testing.T) synth.Trace {
	t.Helper()
	return synth.Generate(synth.Params{Seed: 1, Families: 1200, ScalperShare: 0.08})
}

func TestEndToEnd(t *testing.T) {
	tr := trace(t)
	ev := labels.Evaluate(detect.Detect(tr.Events, detect.DefaultConfig()), tr.Labels)
	t.Logf("%d events: precision %.3f recall %.3f tactics %v", len(tr.Events), ev.Precision, ev.Recall, ev.Tactics)
	// 0.92: this seed's trace changed when the generator began writing
	// refused check-ins (the draws moved); main's detector scored 0.924 on
	// it as this one does.
	if ev.Precision < 0.97 || ev.Recall < 0.92 {
		t.Errorf("precision %.3f, recall %.3f; want ≥ 0.97 and ≥ 0.92 on this small trace", ev.Precision, ev.Recall)
	}
	if ev.FamiliesFlagged != 0 {
		t.Errorf("%d genuine accounts flagged (%v), want none", ev.FamiliesFlagged, ev.FalseFlagged)
	}
	for _, k := range []string{"carer", "kiosk", "fast", "household", "canceller", "wrong_member"} {
		if ev.Genuine[k].Accounts == 0 {
			t.Errorf("the trace has no %q accounts to be tested on", k)
		}
	}
	// Check-ins the desk refused, written as the service writes them: a
	// seller's buyers (strangers to the account) and a family's other
	// member (on it), each naming who came.
	came := map[bool]int{}
	for _, e := range tr.Events {
		if e.Type == "rejected" && e.Reason == "identity_mismatch" {
			if e.PresentedOnAccount == nil || e.PresentedIdentityID == "" || e.StaffID == "" || e.BookingID == "" {
				t.Fatalf("a refused check-in without who came: %+v", e)
			}
			came[*e.PresentedOnAccount]++
		}
	}
	if came[false] == 0 || came[true] == 0 {
		t.Errorf("refused check-ins by strangers and by family members = %d, %d; want some of each", came[false], came[true])
	}
	checkKeptOut(t, tr.Events, "already_booked")
}

// checkKeptOut checks a generator's refusals of people kept out by what
// another account made for them against what the service writes
// (booking/byothers.go, refusals.go): to the person's verified self the
// rule's code (one of marked, any case), made_by_other_account and the
// account holding it (by_account_id), which booked in that department; to
// anyone else person_booked_elsewhere, no mark, nobody named. Both must be
// there, each naming the person and the session.
func checkKeptOut(t *testing.T, evs []booking.Event, marked ...string) {
	t.Helper()
	booked := map[[2]string]bool{} // (department, account) of the bookings
	for _, e := range evs {
		if e.Type == booking.EventBooked {
			booked[[2]string{e.DepartmentID, e.AccountID}] = true
		}
	}
	n := map[bool]int{}
	for _, e := range evs {
		switch {
		case e.Type == booking.EventRejected && e.MadeByOtherAccount:
			n[true]++
			if !slices.Contains(marked, strings.ToLower(e.Reason)) || e.ByAccountID == "" || e.ByAccountID == e.AccountID ||
				e.IdentityID == "" || e.SessionID == "" || !booked[[2]string{e.DepartmentID, e.ByAccountID}] {
				t.Fatalf("a refusal made_by_other_account not as the service writes it, or not naming the account that holds it: %+v", e)
			}
		case e.Type == booking.EventRejected && strings.EqualFold(e.Reason, "person_booked_elsewhere"):
			n[false]++
			if e.ByAccountID != "" || e.IdentityID == "" || e.SessionID == "" || e.ReleaseAt.IsZero() {
				t.Fatalf("a person_booked_elsewhere refusal not as the service writes it: %+v", e)
			}
		case e.Type == booking.EventRejected && e.ByAccountID != "":
			t.Fatalf("a refusal naming an account without made_by_other_account: %+v", e)
		}
	}
	if n[true] == 0 || n[false] == 0 {
		t.Errorf("refusals of verified people kept out, of the others = %d, %d; want some of each", n[true], n[false])
	}
}

// The held-out generator is a check, never a target; its genuine people
// must not be flagged either.
func TestHeldoutGenuineNotFlagged(t *testing.T) {
	evs, l := heldout.Generate(heldout.Params{Seed: 1, Households: 1200})
	ev := labels.Evaluate(detect.Detect(evs, detect.DefaultConfig()), l)
	t.Logf("%d events: precision %.3f recall %.3f", len(evs), ev.Precision, ev.Recall)
	if ev.FamiliesFlagged != 0 || ev.Precision < 0.97 {
		t.Errorf("%d genuine accounts flagged (%v), precision %.3f", ev.FamiliesFlagged, ev.FalseFlagged, ev.Precision)
	}
	// Other people's ID numbers, its own way: squatters and the genuine
	// kinds, each labelled, and the events as the service writes them.
	if ev.Tactics["squatter"].Accounts == 0 {
		t.Error("the trace has no squatters")
	}
	for _, k := range []string{"victim", "mistyped", "new_phone", "proxy"} {
		if ev.Genuine[k].Accounts == 0 {
			t.Errorf("the trace has no %q accounts to be tested on", k)
		}
	}
	checkKeptOut(t, evs, "already_booked", "quota_day_department")
	byPerson := 0
	for _, e := range evs {
		if e.Type == booking.EventCancelled && e.ByAccountID != "" && e.ByAccountID != e.AccountID {
			byPerson++
		}
	}
	if byPerson == 0 {
		t.Error("no person cancelled what another account made for them")
	}
}

func TestDeterministic(t *testing.T) {
	tr := trace(t)
	want := detect.Detect(tr.Events, detect.DefaultConfig())
	if len(want) == 0 {
		t.Fatal("no flags to compare")
	}
	shuffled := slices.Clone(tr.Events)
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	got := detect.Detect(shuffled, detect.DefaultConfig())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("shuffled input gave different flags: %d vs %d", len(got), len(want))
	}
	if !reflect.DeepEqual(tr.Events[0], synth.Generate(synth.Params{Seed: 1, Families: 1200, ScalperShare: 0.08}).Events[0]) {
		t.Error("the generator is not deterministic")
	}
	a, _ := heldout.Generate(heldout.Params{Seed: 2, Households: 300})
	b, _ := heldout.Generate(heldout.Params{Seed: 2, Households: 300})
	if !reflect.DeepEqual(a, b) {
		t.Error("the held-out generator is not deterministic")
	}
}

// The offline path (events written to a file and read back by the quick
// reader) gives the same flags as detection over the events in memory, as
// the service runs it.
func TestOfflineEqualsOnline(t *testing.T) {
	tr := trace(t)
	var buf bytes.Buffer
	if err := detect.WriteEvents(&buf, tr.Events); err != nil {
		t.Fatal(err)
	}
	in, err := detect.ReadInput(&buf)
	if err != nil {
		t.Fatal(err)
	}
	online := detect.Detect(tr.Events, detect.DefaultConfig())
	offline := in.Detect(detect.DefaultConfig())
	var a, b bytes.Buffer
	if err := detect.WriteFlags(&a, online); err != nil {
		t.Fatal(err)
	}
	if err := detect.WriteFlags(&b, offline); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("flags from the file differ from flags in memory")
	}
}

func TestEvaluate(t *testing.T) {
	flags := []detect.Flag{{AccountIDs: []string{"s1", "s2", "f1"}}}
	l := labels.Labels{Scalpers: map[string]string{"s1": "bot", "s2": "farm", "s3": "bot"}, Families: []string{"f1", "f2"},
		FamilyKinds: map[string]string{"f1": "carer"}}
	ev := labels.Evaluate(flags, l)
	if ev.TruePositives != 2 || ev.FamiliesFlagged != 1 || ev.Tactics["bot"] != (labels.Kind{Accounts: 2, Flagged: 1}) ||
		ev.Genuine["carer"] != (labels.Kind{Accounts: 1, Flagged: 1}) || ev.Genuine[labels.Ordinary] != (labels.Kind{Accounts: 1}) || ev.LargestFlag != 3 {
		t.Errorf("evaluation = %+v", ev)
	}
	if want := 2.0 / 3; ev.Precision != want || ev.Recall != want || ev.TacticRecall("bot") != 0.5 || ev.TacticRecall("none") != 1 {
		t.Errorf("precision %v recall %v, want %v", ev.Precision, ev.Recall, want)
	}
	s := labels.Sum([]labels.Evaluation{ev, ev})
	if s.Scalpers != 6 || s.Tactics["bot"].Accounts != 4 || s.Precision != ev.Precision {
		t.Errorf("sum = %+v", s)
	}
}

// TestCommand writes a trace with `gen` and measures it with `eval`, as a
// trace from anywhere else would be measured, then runs the generators in
// memory with the per-kind report.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	events, lab := filepath.Join(dir, "trace.jsonl"), filepath.Join(dir, "labels.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"gen", "--seed", "3", "--families", "500", "--generator", "heldout", "--out", events, "--labels", lab}, &stdout, &stderr); err != nil {
		t.Fatalf("gen: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	var l labels.Labels
	if err := json.Unmarshal(raw, &l); err != nil || l.Generator != "heldout" || len(l.Scalpers) == 0 {
		t.Fatalf("labels: %v %+v", err, l)
	}
	stdout.Reset()
	if err := run([]string{"eval", "--events", events, "--labels", lab}, &stdout, &stderr); err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"precision", "recall", "genuine flagged", "trace.jsonl", "tactic", "genuine kind"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if err := run([]string{"--seeds", "1-2", "--families", "400"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval in memory: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"synth 1", "synth 2", "heldout 1", "heldout 2", "synth, 2 traces together", "heldout, 2 traces together"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if err := run([]string{"eval", "--seeds", "1", "--families", "400", "--generator", "synth", "--dominated", "fake_farm"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval --dominated: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "fake_farm: ") || !strings.Contains(stdout.String(), "accounts missed; counted from the events") {
		t.Errorf("--dominated printed no bound:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := run([]string{"eval", "--seeds", "1", "--families", "400", "--generator", "synth", "--concert", "2s", "--concert-by", "release"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval --concert: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "in concert: ") || !strings.Contains(stdout.String(), "fake_farm") {
		t.Errorf("--concert printed no table:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := run([]string{"eval", "--seeds", "1", "--families", "400", "--generator", "synth", "--traits"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval --traits: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "traits: ") || !strings.Contains(stdout.String(), "fake_farm") {
		t.Errorf("--traits printed no table:\n%s", stdout.String())
	}
	if err := run([]string{"eval", "--seeds", "1", "--families", "400", "--generator", "synth", "--concert", "2s", "--concert-by", "day"}, &stdout, &stderr); err == nil {
		t.Error("--concert-by day: want an error")
	}
	if err := run([]string{"eval", "--events", events}, &stdout, &stderr); err == nil {
		t.Error("--events without --labels: want an error")
	}
}

// TestProfiles counts a thin fake-ID account's profile from raw events — two
// names raced for at two releases, one slot passed on at the second, nobody
// ever seen — and leaves out the slots a return watcher took.
func TestProfiles(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ev := func(at time.Time, typ booking.EventType, acct, pat, sess, bk string, rel time.Time) booking.Event {
		return booking.Event{TS: at, Type: typ, AccountID: acct, PatientID: pat, IdentityID: "id-" + pat, SessionID: sess, BookingID: bk, ReleaseAt: rel}
	}
	s2 := t0.Add(10 * day)
	evs := []booking.Event{
		ev(t0.Add(2*time.Second), booking.EventBooked, "farm", "p1", "s1", "b1", t0),
		ev(s2.Add(3*time.Second), booking.EventRejected, "farm", "p2", "s2", "", s2),
		ev(t0.Add(3*time.Hour), booking.EventCancelled, "farm", "p1", "s1", "b1", time.Time{}),
		ev(t0.Add(3*time.Hour+20*time.Second), booking.EventBooked, "buyer", "q", "s1", "b2", t0),
		ev(t0.Add(7*day), booking.EventCheckedIn, "buyer", "q", "s1", "b2", time.Time{}),
	}
	// Three families whose cancelled slots one watcher took within seconds.
	for i, f := range []string{"f1", "f2", "f3"} {
		at := t0.Add(time.Duration(i+1) * day)
		sess, bk := fmt.Sprintf("w%d", i), fmt.Sprintf("wb%d", i)
		evs = append(evs, ev(at, booking.EventBooked, f, f+"p", sess, bk+"x", time.Time{}),
			ev(at.Add(time.Hour), booking.EventCancelled, f, f+"p", sess, bk+"x", time.Time{}),
			ev(at.Add(time.Hour+2*time.Second), booking.EventBooked, "watcher", "wp", sess, bk, time.Time{}))
	}
	ps := profiles(evs)
	want := profile{pBookings: 1, pRaced: 2, pNames: 2, pSpan: 10, pCancelled: 1, pHandoffs: 1, pPersons: 2, pUnseen: 1}
	if got := *ps["farm"]; got != want {
		t.Errorf("farm's profile = %v, want %v", got, want)
	}
	if got := ps["f1"][pHandoffs]; got != 0 {
		t.Errorf("a family whose slot a watcher took passed %d on, want 0", got)
	}
	if got := ps["buyer"][pUnseen]; got != 0 {
		t.Errorf("the buyer, whose patient came: nobody came = %d, want 0", got)
	}
	// The genuine family whose two members' experts strangers took at once
	// covers the farm account; one more slot passed on and it does not.
	trap := genuineTraps[0].p
	if !trap.covers(&want) {
		t.Errorf("%v does not cover %v", trap, want)
	}
	more := want
	more[pHandoffs] = 3
	if trap.covers(&more) {
		t.Errorf("%v covers %v", trap, more)
	}
	var out bytes.Buffer
	d := &dominance{tactic: "fake_farm"}
	d.add(evs, labels.Labels{Scalpers: map[string]string{"farm": "fake_farm"}}, labels.Evaluation{MissedAccounts: []string{"farm"}})
	d.report(&out)
	if !strings.Contains(out.String(), "1 of 1 accounts missed") || !strings.Contains(out.String(), "finds at most 0 of 1") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestConcert counts, for accounts none of whose people ever came, the most
// sessions (or releases) one other such account raced with them within the
// window: two accounts on handsets of their own at two releases within a
// second; an account on one of their handsets is linked already and counts
// nothing with it; one a few seconds behind, one whose person came, and a
// person's refusal for what another account made do not count.
func TestConcert(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	t1 := t0.Add(7 * 24 * time.Hour)
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	try := func(acct, dev, sess string, rel time.Time, after float64) booking.Event {
		return booking.Event{TS: rel.Add(sec(after)), Type: booking.EventRejected, Reason: "sold_out", AccountID: acct,
			PatientID: acct + "-p", IdentityID: "id-" + acct, SessionID: sess, HospitalID: "h", ReleaseAt: rel, DeviceID: dev}
	}
	evs := []booking.Event{
		try("farm1", "d1", "s1", t0, 1.0), try("farm2", "d2", "s1", t0, 1.6),
		try("farm1", "d1", "s2", t1, 2.0), try("farm2", "d2", "s2", t1, 1.1),
		// On farm1's handset: one operator, linked already.
		try("farm3", "d1", "s3", t1, 1.0), try("farm1", "d1", "s3", t1, 1.2),
		try("farm3", "d1", "s4", t0, 3.0), try("farm1", "d1", "s4", t0, 3.2),
		// Seconds behind the others.
		try("late", "d4", "s1", t0, 6.0),
		// Another session opening at the same release.
		try("other", "d5", "s5", t0, 1.3),
		// Somebody it named came.
		try("family", "d6", "s1", t0, 1.2), try("family", "d6", "s2", t1, 1.5),
		{TS: t1.Add(48 * time.Hour), Type: booking.EventCheckedIn, PatientID: "family-p", IdentityID: "id-family", SessionID: "s9", StaffID: "clerk"},
	}
	victim := try("victim", "d7", "s1", t0, 1.1)
	victim.MadeByOtherAccount = true
	evs = append(evs, victim)

	got := concertOf(evs, 2*time.Second, concertSession)
	want := map[string]int{"farm1": 2, "farm2": 2, "farm3": 0, "late": 0, "other": 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("by session = %v, want %v", got, want)
	}
	// By release, s5 opened with s1: other raced with farm1 and farm2 there,
	// and farm3 with farm2 at both releases.
	got = concertOf(evs, 2*time.Second, concertRelease)
	want = map[string]int{"farm1": 2, "farm2": 2, "farm3": 2, "late": 0, "other": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("by release = %v, want %v", got, want)
	}
	// A wider window takes late in.
	if got := concertOf(evs, 5*time.Second, concertSession)["late"]; got != 1 {
		t.Errorf("late within 5 s = %d, want 1", got)
	}

	var out bytes.Buffer
	c := &concert{window: 2 * time.Second, by: concertSession}
	c.add(evs, labels.Labels{Scalpers: map[string]string{"farm1": "fake_farm", "farm2": "fake_farm"}, FamilyKinds: map[string]string{"late": "release"}},
		labels.Evaluation{MissedAccounts: []string{"farm2"}})
	c.report(&out)
	for _, line := range []string{`fake_farm\s+0\s+0\s+1\s+0\s+0\s+0`, `fake_farm, missed\s+0\s+0\s+1\s+0\s+0\s+0`,
		`genuine ordinary\s+2\s+0\s+0`, `genuine release\s+1\s+0\s+0`} {
		if !regexp.MustCompile(line).MatchString(out.String()) {
			t.Errorf("report has no line %q:\n%s", line, out.String())
		}
	}
}

// TestTraits reads the detect21 round's traits from raw events: a fake-ID
// account that booked a fresh name at two scarce sessions, passed one slot
// on the evening before its session and gave the other back hours before
// its own, at another sitting, after ten refusals; a family that never came,
// whose two cancellations at one sitting were an ordinary session's days
// ahead and a late one; and an account whose person came, outside the pool.
func TestTraits(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	s1, s2, s3, s4 := t0.Add(7*day), t0.Add(9*day), t0.Add(8*day), t0.Add(6*day) // the sessions' starts
	ev := func(at time.Time, typ booking.EventType, acct, pat, sess, bk string, rel time.Time) booking.Event {
		return booking.Event{TS: at, Type: typ, AccountID: acct, PatientID: pat, IdentityID: "id-" + pat, SessionID: sess, BookingID: bk, ReleaseAt: rel}
	}
	late := ev(s4.Add(-2*time.Hour), booking.EventCancelled, "family", "q", "s4", "f2", time.Time{})
	late.Reason = "late"
	byPerson := ev(s1.Add(-20*time.Hour), booking.EventCancelled, "family", "q", "s1", "f3", time.Time{})
	byPerson.Reason = "cancelled_by_person"
	evs := []booking.Event{
		ev(t0.Add(-day), booking.EventPatientAdded, "farm", "p1", "", "", time.Time{}),
		ev(t0.Add(2*time.Second), booking.EventBooked, "farm", "p1", "s1", "b1", t0),
		ev(t0.Add(2*day+3*time.Second), booking.EventBooked, "farm", "p1", "s2", "b2", t0.Add(2*day)),
		ev(s1.Add(-14*time.Hour), booking.EventCancelled, "farm", "p1", "s1", "b1", time.Time{}),
		ev(s1.Add(-14*time.Hour+20*time.Second), booking.EventBooked, "buyer", "r", "s1", "b3", t0),
		ev(s1, booking.EventCheckedIn, "buyer", "r", "s1", "b3", time.Time{}),
		ev(s2.Add(-6*time.Hour), booking.EventCancelled, "farm", "p1", "s2", "b2", time.Time{}),
		ev(s2.Add(10*time.Minute), booking.EventNoShow, "other", "o", "s2", "b4", time.Time{}),

		ev(t0.Add(-30*day), booking.EventPatientAdded, "family", "q", "", "", time.Time{}),
		ev(t0.Add(3*day), booking.EventBooked, "family", "q", "s3", "f1", t0),
		ev(t0.Add(-day+4*time.Second), booking.EventBooked, "family", "q", "s4", "f2", t0.Add(-day)),
		ev(s4.Add(-2*time.Hour+time.Minute), booking.EventCancelled, "family", "q", "s3", "f1", time.Time{}),
		late,
		ev(t0.Add(5*time.Second), booking.EventBooked, "family", "q", "s1", "f3", t0),
		byPerson,
		ev(s3, booking.EventCheckedIn, "walkin", "w", "s3", "b5", time.Time{}),
		ev(s4, booking.EventCheckedIn, "walkin", "w", "s4", "b6", time.Time{}),
	}
	for i := range 10 {
		e := ev(t0.Add(time.Duration(i)*time.Second), booking.EventRejected, "farm", "p1", "s1", "", t0)
		e.Reason = "sold_out"
		evs = append(evs, e)
	}
	got := traitsOf(evs)
	if _, ok := got["buyer"]; ok {
		t.Error("the buyer, whose person came, is in the pool")
	}
	var farm, family [nTraits]bool
	for _, i := range []int{tOnlyScarce, tFresh, tDeadline, tSittings, tPassed, tPassedLate, tRetries} {
		farm[i] = true
	}
	if got["farm"] == nil || *got["farm"] != farm {
		t.Errorf("farm's traits = %v, want %v", got["farm"], farm)
	}
	if got["family"] == nil || *got["family"] != family {
		t.Errorf("family's traits = %v, want %v", got["family"], family)
	}
	// One of its cancellations a day earlier, or past the deadline, and it
	// is not at the deadline.
	near := slices.Clone(evs)
	for i := range near {
		if near[i].Type == booking.EventCancelled && near[i].BookingID == "b2" {
			near[i].TS = s2.Add(-31 * time.Hour)
		}
	}
	if g := traitsOf(near)["farm"]; g == nil || g[tDeadline] || !g[tSittings] {
		t.Errorf("farm with one cancellation 31 h ahead: %v, want no deadline, two sittings", g)
	}
	for i := range near {
		if near[i].Type == booking.EventCancelled && near[i].BookingID == "b2" {
			near[i].TS, near[i].Reason = s2.Add(-time.Hour), "late"
		}
	}
	if g := traitsOf(near)["farm"]; g == nil || g[tDeadline] {
		t.Errorf("farm with one cancellation late: %v, want no deadline", g)
	}
	// The buyer takes two other accounts' returns too: a return watcher,
	// whose take passes nothing on.
	watched := slices.Clone(evs)
	for i, f := range []string{"g1", "g2"} {
		at, sess := t0.Add(time.Duration(i+1)*day), fmt.Sprintf("w%d", i)
		watched = append(watched, ev(at, booking.EventBooked, f, f+"p", sess, sess+"x", time.Time{}),
			ev(at.Add(time.Hour), booking.EventCancelled, f, f+"p", sess, sess+"x", time.Time{}),
			ev(at.Add(time.Hour+2*time.Second), booking.EventBooked, "buyer", "r", sess, sess+"y", time.Time{}))
	}
	if g := traitsOf(watched)["farm"]; g == nil || g[tPassed] || g[tPassedLate] || !g[tDeadline] {
		t.Errorf("farm whose slot a watcher took: %v, want nothing passed on", g)
	}

	var out bytes.Buffer
	tr := &traits{}
	tr.add(evs, labels.Labels{Scalpers: map[string]string{"farm": "fake_farm"}, FamilyKinds: map[string]string{"family": "trip"}},
		labels.Evaluation{MissedAccounts: []string{"farm"}})
	tr.report(&out)
	for _, line := range []string{`fake_farm, missed\s+1\s+1\s+1\s+1\s+1\s+1\s+1\s+1`, `genuine trip\s+1\s+0\s+0\s+0\s+0\s+0\s+0\s+0`} {
		if !regexp.MustCompile(line).MatchString(out.String()) {
			t.Errorf("report has no line %q:\n%s", line, out.String())
		}
	}
}
