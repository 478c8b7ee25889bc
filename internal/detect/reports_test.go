package detect

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// botTrace: "bot" books the scarcest sessions at a machine's speed — two
// kinds of evidence (automation, targeting) — among ordinary traffic;
// "quick" is a genuine fast user (one kind: speed alone); "bg000" an
// ordinary patient. The bot's account was made on the phone hash:bot.
func botTrace() []booking.Event {
	evs := background(100)
	evs = append(evs, booking.Event{TS: at(-day), Type: booking.EventAccountCreated, AccountID: "bot", Phone: "hash:bot"},
		// The bot also phones the hotline, booking for a patient's ID.
		booking.Event{TS: at(2 * day), Type: booking.EventBooked, StaffID: "op1", Channel: booking.ChannelPhone, Phone: "hash:bot",
			IdentityID: "victim", BookingID: "b-by-phone", SessionID: "plenty01"})
	for i := range 4 {
		s := fmt.Sprintf("hot%d", i)
		evs = append(evs, hot(s, time.Duration(i)*day)...)
		evs = append(evs, book("bot", "p1", s, time.Duration(i)*day, 60*time.Millisecond))
	}
	for i := range 10 {
		evs = append(evs, book("quick", "p1", fmt.Sprintf("plenty%02d", i), time.Duration(i)*day, 80*time.Millisecond),
			checkIn("quick", "p1", fmt.Sprintf("plenty%02d", i), at(time.Duration(i)*day+7*day)))
	}
	return evs
}

// reportsBy makes n reports of each reporter against the account.
func reportsBy(target string, n int, reporters ...string) []booking.Report {
	var out []booking.Report
	for _, r := range reporters {
		for i := range n {
			out = append(out, booking.Report{CaseID: fmt.Sprintf("case-%s-%s-%d", r, target, i), TS: at(time.Duration(i) * time.Hour),
				Reporter: r, AccountID: target})
		}
	}
	return out
}

// scoreOf is the score of the flag naming acct, and whether there is one.
func scoreOf(flags []Flag, acct string) (float64, bool) {
	for _, f := range flags {
		if slices.Contains(f.AccountIDs, acct) {
			return f.Score, true
		}
	}
	return 0, false
}

func TestReportsAloneNeverFlag(t *testing.T) {
	evs := botTrace()
	var reporters []string
	for i := range 30 {
		reporters = append(reporters, fmt.Sprintf("patient%02d", i))
	}
	// Thirty patients report an ordinary patient (no evidence at all) and
	// the genuine fast user (one kind of evidence): nobody is flagged for it.
	reports := append(reportsBy("bg000", 1, reporters...), reportsBy("quick", 3, reporters...)...)
	flags := DetectWithReports(evs, reports, DefaultConfig())
	for _, acct := range []string{"bg000", "quick"} {
		if _, ok := scoreOf(flags, acct); ok {
			t.Errorf("%s flagged on reports: %+v", acct, flags)
		}
	}
	// Even a threshold a single report would reach does not flag on
	// testimony: reports never count as a kind of evidence.
	cfg := DefaultConfig()
	cfg.Threshold, cfg.MinKinds = 0.1, 1
	for _, f := range DetectWithReports(background(100), reportsBy("bg000", 1, reporters...), cfg) {
		if slices.Contains(f.AccountIDs, "bg000") {
			t.Errorf("a reported ordinary patient is flagged with one kind required: %+v", f)
		}
	}
}

func TestReportsRaiseWhatTheEventsPointAt(t *testing.T) {
	evs := botTrace()
	cfg := DefaultConfig()
	base, ok := scoreOf(Detect(evs, cfg), "bot")
	if !ok {
		t.Fatal("the bot is not flagged without reports: the trace is wrong")
	}
	// Just out of reach of the events alone.
	cfg.Threshold = base + 0.1
	if _, ok := scoreOf(Detect(evs, cfg), "bot"); ok {
		t.Fatal("the bot is flagged above its score")
	}
	w := cfg.Rules.Reported.Weight
	for _, tc := range []struct {
		name    string
		reports []booking.Report
		want    float64 // the testimony's points
	}{
		{"the account named", reportsBy("bot", 1, "r1"), w},
		{"the account of the booking named", []booking.Report{{CaseID: "c1", Reporter: "r1", BookingID: "b-botp1hot2"}}, w},
		{"the accounts of the phone named", []booking.Report{{CaseID: "c1", Reporter: "r1", Phone: "hash:bot"}}, w},
		{"the caller of the phone booking named", []booking.Report{{CaseID: "c1", Reporter: "r1", BookingID: "b-by-phone"}}, w},
		{"two reporters count twice", reportsBy("bot", 1, "r1", "r2"), 2 * w},
		{"three reporters by every route", []booking.Report{{CaseID: "c1", Reporter: "r1", AccountID: "bot"},
			{CaseID: "c2", Reporter: "r2", BookingID: "b-botp1hot0"}, {CaseID: "c3", Reporter: "r3", Phone: "hash:bot"}}, 3 * w},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := DetectWithReports(evs, tc.reports, cfg)
			got, ok := scoreOf(flags, "bot")
			if !ok {
				t.Fatalf("the bot is not flagged with the reports; flags %+v", flags)
			}
			if math.Abs(got-(base+tc.want)) > 0.011 {
				t.Errorf("score %.2f, want %.2f + %.2f", got, base, tc.want)
			}
			var ids []string
			for _, r := range tc.reports {
				ids = append(ids, r.CaseID)
			}
			slices.Sort(ids)
			if !slices.Equal(flags[0].CaseIDs, ids) {
				t.Errorf("case ids %v, want %v", flags[0].CaseIDs, ids)
			}
		})
	}
}

func TestOneReporterCountsOnce(t *testing.T) {
	evs := botTrace()
	cfg := DefaultConfig()
	base, _ := scoreOf(Detect(evs, cfg), "bot")
	w := cfg.Rules.Reported.Weight
	// Out of reach of one reporter, within reach of two.
	cfg.Threshold = base + 1.5*w
	if got, ok := scoreOf(DetectWithReports(evs, reportsBy("bot", 10, "r1"), cfg), "bot"); ok {
		t.Errorf("one reporter reporting ten times flags the bot (score %.2f): it counts as ten", got)
	}
	// Two reporters on one handset are one operator: a ring counts once.
	ring := append(slices.Clone(evs),
		booking.Event{TS: at(-day), Type: booking.EventLogin, AccountID: "r1", DeviceID: "ring"},
		booking.Event{TS: at(-day), Type: booking.EventLogin, AccountID: "r2", DeviceID: "ring"})
	if got, ok := scoreOf(DetectWithReports(ring, reportsBy("bot", 1, "r1", "r2"), cfg), "bot"); ok {
		t.Errorf("two reporters on one handset flag the bot (score %.2f): they count as two", got)
	}
	if _, ok := scoreOf(DetectWithReports(evs, reportsBy("bot", 1, "r1", "r2"), cfg), "bot"); !ok {
		t.Error("two independent reporters do not raise the bot past the threshold")
	}
}

// TestReportersMadeInABurstAreOneVoice: accounts made from one address
// within minutes of each other are one reporter however many they are,
// without a handset or a number in common (review18b M3: 20 fresh accounts
// from one IP reporting one account). Near misses: accounts made from one
// address a day apart, or from two addresses in the same minute, are
// genuine patients and count apart.
func TestReportersMadeInABurstAreOneVoice(t *testing.T) {
	evs := botTrace()
	cfg := DefaultConfig()
	base, _ := scoreOf(Detect(evs, cfg), "bot")
	cfg.Threshold = base + 1.5*cfg.Rules.Reported.Weight
	made := func(acct, ip string, when time.Duration) booking.Event {
		return booking.Event{TS: at(-2*day + when), Type: booking.EventAccountCreated, AccountID: acct, IP: ip,
			DeviceID: "dev-" + acct, Phone: "hash:" + acct}
	}
	var burst []booking.Event
	var reporters []string
	for i := range 20 {
		r := fmt.Sprintf("fresh%02d", i)
		reporters = append(reporters, r)
		burst = append(burst, made(r, "203.0.113.7", time.Duration(i)*20*time.Second))
	}
	if got, ok := scoreOf(DetectWithReports(append(slices.Clone(evs), burst...), reportsBy("bot", 1, reporters...), cfg), "bot"); ok {
		t.Errorf("20 accounts made from one address in minutes flag the bot (score %.2f): they count as 20", got)
	}
	for name, pair := range map[string][]booking.Event{
		"one address a day apart":     {made("g1", "203.0.113.7", 0), made("g2", "203.0.113.7", day)},
		"two addresses in a minute":   {made("g1", "203.0.113.7", 0), made("g2", "198.51.100.9", time.Second)},
		"no address (another system)": {made("g1", "", 0), made("g2", "", time.Second)},
	} {
		if _, ok := scoreOf(DetectWithReports(append(slices.Clone(evs), pair...), reportsBy("bot", 1, "g1", "g2"), cfg), "bot"); !ok {
			t.Errorf("%s: two genuine reporters do not count as two", name)
		}
	}
}
