package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// The traces here are made by hand, small enough to read: each test names
// the events that should (or should just not) make a signal fire.

var (
	cst = time.FixedZone("CST", 8*3600)
	t0  = time.Date(2026, 11, 2, 8, 0, 0, 0, cst) // a release instant
)

func at(d time.Duration) time.Time { return t0.Add(d) }

const day = 24 * time.Hour

// book is a self-service booking of session s by account a for person p,
// made d after the release at t0 (plus the session's day offset off).
func book(a, p, s string, off, d time.Duration) booking.Event {
	return booking.Event{TS: at(off + d), Type: booking.EventBooked, AccountID: a, PatientID: p, SessionID: s,
		Channel: booking.ChannelOnline, ReleaseAt: at(off), DeviceID: "dev-" + a, IP: "ip-" + a, BookingID: "b-" + a + p + s}
}

func cancel(a, p, s string, ts time.Time) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventCancelled, AccountID: a, PatientID: p, SessionID: s,
		DeviceID: "dev-" + a, IP: "ip-" + a, BookingID: "b-" + a + p + s}
}

// background is ordinary traffic: accounts of one person booking plentiful
// sessions hours after release, so that percentiles and sell-out times have
// something to compare with.
func background(n int) []booking.Event {
	var out []booking.Event
	for i := range n {
		a, s := fmt.Sprintf("bg%03d", i), fmt.Sprintf("plenty%02d", i%20)
		out = append(out, book(a, "p-"+a, s, 0, time.Duration(1+i%5)*time.Hour+time.Duration(i)*time.Second))
	}
	return out
}

// fired runs the detector with a threshold so low that every signal makes a
// flag, and returns the signals that fired for the given account (or for
// any account when acct is "").
func fired(t *testing.T, events []booking.Event, acct string) []string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Threshold = 0.001
	var out []string
	for _, f := range Detect(events, cfg) {
		if acct != "" && !slices.Contains(f.AccountIDs, acct) {
			continue
		}
		for _, r := range f.Reasons {
			if !slices.Contains(out, r.Signal) {
				out = append(out, r.Signal)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestSignals(t *testing.T) {
	tests := []struct {
		name   string
		events func() []booking.Event
		acct   string
		signal string
		want   bool
	}{
		{"persons_per_account: 8 patients in a week", func() []booking.Event {
			var evs []booking.Event
			for i := range 8 {
				evs = append(evs, book("a1", fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), time.Duration(i)*day/2, time.Hour))
			}
			return evs
		}, "a1", "persons_per_account", true},
		{"persons_per_account: a family of 5 does not", func() []booking.Event {
			var evs []booking.Event
			for i := range 10 {
				evs = append(evs, book("a1", fmt.Sprintf("p%d", i%5), fmt.Sprintf("s%d", i), time.Duration(i)*day/2, time.Hour))
			}
			return evs
		}, "a1", "persons_per_account", false},
		{"persons_per_device: two accounts, 8 patients, one phone", func() []booking.Event {
			var evs []booking.Event
			for i := range 8 {
				e := book(fmt.Sprintf("a%d", i%2), fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), time.Duration(i)*day/4, time.Hour)
				e.DeviceID = "shared"
				evs = append(evs, e)
			}
			return evs
		}, "a0", "persons_per_device", true},
		{"persons_per_device: a couple's tablet with 4 people does not", func() []booking.Event {
			var evs []booking.Event
			for i := range 8 {
				e := book(fmt.Sprintf("a%d", i%2), fmt.Sprintf("p%d", i%4), fmt.Sprintf("s%d", i), time.Duration(i)*day/4, time.Hour)
				e.DeviceID = "shared"
				evs = append(evs, e)
			}
			return evs
		}, "a0", "persons_per_device", false},
		{"persons_per_phone: one caller books 7 people by phone", func() []booking.Event {
			var evs []booking.Event
			evs = append(evs, booking.Event{TS: at(-day), Type: booking.EventAccountCreated, AccountID: "a1", Phone: "hash:1"})
			for i := range 7 {
				evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventBooked, StaffID: "op1",
					Channel: booking.ChannelPhone, Phone: "hash:1", IdentityID: fmt.Sprintf("id%d", i), SessionID: fmt.Sprintf("s%d", i)})
			}
			return evs
		}, "a1", "persons_per_phone", true},
		{"persons_per_phone: a caller for a family of 3 does not", func() []booking.Event {
			var evs []booking.Event
			evs = append(evs, booking.Event{TS: at(-day), Type: booking.EventAccountCreated, AccountID: "a1", Phone: "hash:1"})
			for i := range 7 {
				evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventBooked, StaffID: "op1",
					Channel: booking.ChannelPhone, Phone: "hash:1", IdentityID: fmt.Sprintf("id%d", i%3), SessionID: fmt.Sprintf("s%d", i)})
			}
			return evs
		}, "a1", "persons_per_phone", false},
		{"persons_per_ip: one proxy, 12 patients", func() []booking.Event {
			var evs []booking.Event
			for i := range 12 {
				e := book("a1", fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), time.Duration(i)*time.Hour, time.Hour)
				evs = append(evs, e)
			}
			return evs
		}, "a1", "persons_per_ip", true},
		{"persons_per_ip: 10 patients do not", func() []booking.Event {
			var evs []booking.Event
			for i := range 10 {
				evs = append(evs, book("a1", fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), time.Duration(i)*time.Hour, time.Hour))
			}
			return evs
		}, "a1", "persons_per_ip", false},
		{"accounts_per_device: four accounts on one phone handset", func() []booking.Event {
			var evs []booking.Event
			for i := range 4 {
				evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventLogin,
					AccountID: fmt.Sprintf("a%d", i), DeviceID: "handset"})
			}
			return evs
		}, "a0", "accounts_per_device", true},
		{"accounts_per_device: three do not", func() []booking.Event {
			var evs []booking.Event
			for i := range 3 {
				evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventLogin,
					AccountID: fmt.Sprintf("a%d", i), DeviceID: "handset"})
			}
			return evs
		}, "a0", "accounts_per_device", false},
		{"shared_persons: the same 3 IDs on two accounts", func() []booking.Event {
			var evs []booking.Event
			for i := range 3 {
				for _, a := range []string{"a1", "a2"} {
					evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventPatientAdded,
						AccountID: a, PatientID: a + fmt.Sprint(i), IdentityID: fmt.Sprintf("id%d", i)})
				}
			}
			return evs
		}, "a1", "shared_persons", true},
		{"shared_persons: two parents sharing 2 children do not", func() []booking.Event {
			var evs []booking.Event
			for i := range 2 {
				for _, a := range []string{"a1", "a2"} {
					evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventPatientAdded,
						AccountID: a, PatientID: a + fmt.Sprint(i), IdentityID: fmt.Sprintf("id%d", i)})
				}
			}
			return evs
		}, "a1", "shared_persons", false},
		{"handoff: three cancels rebooked by the accomplice within seconds", func() []booking.Event {
			return handoffs(5*time.Second, 2*day, false)
		}, "a1", "handoff", true},
		{"handoff: rebooked a minute later is not one", func() []booking.Event {
			return handoffs(time.Minute, 2*day, false)
		}, "a1", "handoff", false},
		{"handoff: a correction right after booking is not one", func() []booking.Event {
			return handoffs(5*time.Second, 2*time.Minute, false)
		}, "a1", "handoff", false},
		{"handoff: the waitlist handing the slot over is not one", func() []booking.Event {
			return handoffs(5*time.Second, 2*day, true)
		}, "a1", "handoff", false},
		{"fast_reaction: two bookings 120 ms after release", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, 120*time.Millisecond), book("a1", "p1", "s2", day, 90*time.Millisecond)}
		}, "a1", "fast_reaction", true},
		{"fast_reaction: bookings a lottery draw made are not the account's reactions", func() []booking.Event {
			// The draw books winners at once after the draw time, which may be
			// the pool's release time too; nobody raced.
			var evs []booking.Event
			for i := range 3 {
				b := book("a1", "p1", fmt.Sprintf("s%d", i), time.Duration(i)*day, 50*time.Millisecond)
				b.Reason, b.IP, b.DeviceID = "lottery", "", ""
				evs = append(evs, b)
			}
			return evs
		}, "a1", "fast_reaction", false},
		{"fast_reaction: lottery entries 120 ms after their windows open", func() []booking.Event {
			var evs []booking.Event
			for i := range 2 {
				e := book("a1", "p1", fmt.Sprintf("s%d", i), time.Duration(i)*day, 120*time.Millisecond)
				e.Type = booking.EventLotteryEntered
				evs = append(evs, e)
			}
			return evs
		}, "a1", "fast_reaction", true},
		{"fast_reaction: 1.5 s is a quick person, not a bot", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, 1500*time.Millisecond), book("a1", "p1", "s2", day, 1600*time.Millisecond)}
		}, "a1", "fast_reaction", false},
		{"fast_percentile: three bookings at 500 ms among people taking minutes", func() []booking.Event {
			evs := background(400)
			for i := range 3 {
				evs = append(evs, book("x", "px", fmt.Sprintf("s%d", i), time.Duration(i)*day, 500*time.Millisecond))
			}
			return evs
		}, "x", "fast_percentile", true},
		{"fast_percentile: 1.5 s is above the cap", func() []booking.Event {
			evs := background(400)
			for i := range 3 {
				evs = append(evs, book("x", "px", fmt.Sprintf("s%d", i), time.Duration(i)*day, 1500*time.Millisecond))
			}
			return evs
		}, "x", "fast_percentile", false},
		{"burst: three bookings within a second", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, time.Hour), book("a1", "p2", "s2", 0, time.Hour+400*time.Millisecond),
				book("a1", "p3", "s3", 0, time.Hour+800*time.Millisecond)}
		}, "a1", "burst", true},
		{"burst: three bookings seconds apart do not", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, time.Hour), book("a1", "p2", "s2", 0, time.Hour+5*time.Second),
				book("a1", "p3", "s3", 0, time.Hour+10*time.Second)}
		}, "a1", "burst", false},
		{"cancellations: 4 within 48 h", func() []booking.Event { return cancels(4, 10*time.Hour) }, "a1", "cancellations", true},
		{"cancellations: 3 within 48 h do not", func() []booking.Event { return cancels(3, 10*time.Hour) }, "a1", "cancellations", false},
		{"cancellations: 4 spread over a month do not", func() []booking.Event { return cancels(4, 8*day) }, "a1", "cancellations", false},
		{"no_shows: 5 of 10", func() []booking.Event { return noShows(5, 10) }, "a1", "no_shows", true},
		{"no_shows: 5 of 40 is an ordinary rate", func() []booking.Event { return noShows(5, 40) }, "a1", "no_shows", false},
		{"booking_volume: 10 bookings in a week", func() []booking.Event { return volume(10) }, "a1", "booking_volume", true},
		{"booking_volume: 9 do not", func() []booking.Event { return volume(9) }, "a1", "booking_volume", false},
		{"scarce_concentration: 4 of 4 bookings on sessions that sell out at once", func() []booking.Event {
			return scarce(4, 0)
		}, "x", "scarce_concentration", true},
		{"scarce_concentration: 4 of 10 is under half", func() []booking.Event {
			return scarce(4, 6)
		}, "x", "scarce_concentration", false},
		{"missing_device: no device id ever", func() []booking.Event { return logins("") }, "a1", "missing_device", true},
		{"missing_device: with one it does not", func() []booking.Event { return logins("dev") }, "a1", "missing_device", false},
		{"rate_limited: 10 refusals", func() []booking.Event { return rateLimited(10) }, "a1", "rate_limited", true},
		{"rate_limited: 9 do not", func() []booking.Event { return rateLimited(9) }, "a1", "rate_limited", false},
		{"insider: a clerk reissues to the same two people", func() []booking.Event { return insider(true) }, "clerk", "insider", true},
		{"insider: a clerk with walk-ins for many people does not", func() []booking.Event { return insider(false) }, "clerk", "insider", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fired(t, tt.events(), tt.acct)
			if has := slices.Contains(got, tt.signal); has != tt.want {
				t.Errorf("signal %s fired = %v, want %v (fired: %v)", tt.signal, has, tt.want, got)
			}
		})
	}
}

// handoffs: a1 books three sessions at release, holds each for held, then
// cancels; a2 books the slot gap later (after waiting on the waitlist when
// waitlisted).
func handoffs(gap, held time.Duration, waitlisted bool) []booking.Event {
	var evs []booking.Event
	for i := range 3 {
		s, off := fmt.Sprintf("s%d", i), time.Duration(i)*day
		evs = append(evs, book("a1", "placeholder", s, off, 2*time.Second))
		c := at(off + 2*time.Second + held)
		evs = append(evs, cancel("a1", "placeholder", s, c))
		b := book("a2", fmt.Sprintf("buyer%d", i), s, off, 2*time.Second+held+gap)
		if waitlisted {
			evs = append(evs, booking.Event{TS: at(off + time.Hour), Type: booking.EventWaitlisted, AccountID: "a2",
				PatientID: b.PatientID, SessionID: s})
			b.Reason, b.IP, b.DeviceID, b.ReleaseAt = "waitlist", "", "", time.Time{}
		}
		evs = append(evs, b)
	}
	return evs
}

func cancels(n int, every time.Duration) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", "p1", s, 0, time.Hour), cancel("a1", "p1", s, at(2*time.Hour+time.Duration(i)*every)))
	}
	return evs
}

func noShows(n, of int) []booking.Event {
	var evs []booking.Event
	for i := range of {
		s := fmt.Sprintf("s%d", i)
		// Spread over the weeks, so that volume says nothing.
		evs = append(evs, book("a1", "p1", s, time.Duration(i)*day, time.Hour))
		if i < n {
			evs = append(evs, booking.Event{TS: at(time.Duration(i)*day + 7*day), Type: booking.EventNoShow,
				AccountID: "a1", PatientID: "p1", SessionID: s})
		}
	}
	return evs
}

func volume(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, book("a1", fmt.Sprintf("p%d", i%3), fmt.Sprintf("s%d", i), time.Duration(i)*12*time.Hour, 3*time.Hour))
	}
	return evs
}

// scarce: four sessions sell out within seconds of release; x books nScarce
// of them and nOther plentiful ones.
func scarce(nScarce, nOther int) []booking.Event {
	evs := background(100)
	for i := range 4 {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*day
		for j := range 5 {
			evs = append(evs, book(fmt.Sprintf("h%d%d", i, j), "q", s, off, time.Duration(1+j)*time.Second))
		}
		if i < nScarce {
			evs = append(evs, book("x", "px", s, off, 3*time.Second))
		}
	}
	for i := range nOther {
		evs = append(evs, book("x", "px", fmt.Sprintf("plenty%02d", i), time.Duration(i)*day, 5*time.Hour))
	}
	return evs
}

func logins(device string) []booking.Event {
	var evs []booking.Event
	for i := range 5 {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * day), Type: booking.EventLogin, AccountID: "a1", DeviceID: device})
	}
	return evs
}

func rateLimited(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 100 * time.Millisecond), Type: booking.EventRateLimited, AccountID: "a1"})
	}
	return evs
}

// insider: the clerk serves 300 different walk-ins; when favouring, two
// people also get reissued or extra slots three times each.
func insider(favouring bool) []booking.Event {
	var evs []booking.Event
	for i := range 300 {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 10 * time.Minute), Type: booking.EventBooked, StaffID: "clerk",
			Channel: booking.ChannelOnsite, IdentityID: fmt.Sprintf("walkin%d", i), SessionID: fmt.Sprintf("w%d", i%40)})
	}
	// A chronic patient comes three times: ordinary.
	for i := range 3 {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 7 * day), Type: booking.EventBooked, StaffID: "clerk",
			Channel: booking.ChannelOnsite, IdentityID: "chronic", SessionID: "weekly"})
	}
	if favouring {
		for i, p := range []string{"fav1", "fav2", "fav1", "fav2", "fav1", "fav2"} {
			s, ts := fmt.Sprintf("expert%d", i), at(time.Duration(i)*day+time.Hour)
			evs = append(evs,
				booking.Event{TS: ts, Type: booking.EventReissued, StaffID: "clerk", SessionID: s, Reason: "extra_slots:1"},
				booking.Event{TS: ts.Add(3 * time.Minute), Type: booking.EventBooked, StaffID: "clerk", Channel: booking.ChannelOnsite,
					IdentityID: p, SessionID: s})
		}
	}
	return evs
}

func TestGrouping(t *testing.T) {
	t.Run("a ring of 5 accounts sharing devices is one flag", func(t *testing.T) {
		var evs []booking.Event
		for i := range 5 {
			a := fmt.Sprintf("ring%d", i)
			for j := range 3 {
				e := book(a, a+"p", fmt.Sprintf("s%d%d", i, j), time.Duration(j)*day, 80*time.Millisecond)
				e.DeviceID = fmt.Sprintf("phone%d", i%2) // two handsets passed around
				if i == 2 {
					e.DeviceID = fmt.Sprintf("phone%d", j%2)
				}
				evs = append(evs, e)
			}
		}
		flags := Detect(evs, DefaultConfig())
		if len(flags) != 1 {
			t.Fatalf("got %d flags, want 1: %+v", len(flags), flags)
		}
		if got, want := flags[0].AccountIDs, []string{"ring0", "ring1", "ring2", "ring3", "ring4"}; !slices.Equal(got, want) {
			t.Errorf("accounts = %v, want %v", got, want)
		}
	})
	t.Run("a hub IP shared by 200 genuine accounts links nobody", func(t *testing.T) {
		var evs []booking.Event
		for i := range 200 {
			a := fmt.Sprintf("g%03d", i)
			e := book(a, a+"p", fmt.Sprintf("s%d", i%30), 0, time.Duration(i+1)*time.Minute)
			e.IP = "hospital-wifi"
			evs = append(evs, e)
		}
		for _, a := range []string{"bot1", "bot2"} {
			for j := range 3 {
				e := book(a, a+"p", fmt.Sprintf("s%d", j), time.Duration(j)*day, 50*time.Millisecond)
				e.IP = "hospital-wifi"
				evs = append(evs, e)
			}
		}
		flags := Detect(evs, DefaultConfig())
		if len(flags) != 2 {
			t.Fatalf("got %d flags, want one per bot: %+v", len(flags), flags)
		}
		for _, f := range flags {
			if len(f.AccountIDs) != 1 || !strings.HasPrefix(f.AccountIDs[0], "bot") {
				t.Errorf("flag names %v, want one bot", f.AccountIDs)
			}
		}
	})
	t.Run("bots behind their own proxy are merged into one flag", func(t *testing.T) {
		var evs []booking.Event
		for _, a := range []string{"bot1", "bot2", "bot3"} {
			for j := range 3 {
				e := book(a, a+"p", fmt.Sprintf("s%d", j), time.Duration(j)*day, 50*time.Millisecond)
				e.IP = "proxy"
				evs = append(evs, e)
			}
		}
		flags := Detect(evs, DefaultConfig())
		if len(flags) != 1 || len(flags[0].AccountIDs) != 3 {
			t.Fatalf("got %+v, want one flag of 3 bots", flags)
		}
	})
	t.Run("a desk clerk doing walk-ins for many people is not flagged", func(t *testing.T) {
		if flags := Detect(insider(false), DefaultConfig()); len(flags) != 0 {
			t.Errorf("got %+v, want no flags", flags)
		}
	})
	t.Run("a clerk favouring two people is one flag with them", func(t *testing.T) {
		flags := Detect(insider(true), DefaultConfig())
		if len(flags) != 1 {
			t.Fatalf("got %d flags, want 1", len(flags))
		}
		if got, want := flags[0].PatientIDs, []string{"fav1", "fav2"}; !slices.Equal(got, want) {
			t.Errorf("patients = %v, want %v", got, want)
		}
		if got := flags[0].AccountIDs; !slices.Equal(got, []string{"clerk"}) {
			t.Errorf("accounts = %v, want the clerk", got)
		}
	})
}

// A genuine family: one account, 5 people, ordinary timing; one quick
// booking at release, two cancellations and a no-show in a month.
func TestGenuineFamilyNotFlagged(t *testing.T) {
	evs := background(200)
	evs = append(evs, booking.Event{TS: at(-30 * day), Type: booking.EventAccountCreated, AccountID: "fam", Phone: "hash:f", DeviceID: "dev-fam"})
	for i := range 5 {
		evs = append(evs, booking.Event{TS: at(-30*day + time.Duration(i)*time.Minute), Type: booking.EventPatientAdded,
			AccountID: "fam", PatientID: fmt.Sprintf("fp%d", i), IdentityID: fmt.Sprintf("fid%d", i), DeviceID: "dev-fam"})
	}
	for i := range 9 {
		s := fmt.Sprintf("plenty%02d", i)
		d := time.Duration(3+i) * time.Hour
		if i == 0 {
			d = 2 * time.Second // quick at the keyboard at release, once
		}
		evs = append(evs, book("fam", fmt.Sprintf("fp%d", i%5), s, time.Duration(i)*3*day, d))
	}
	evs = append(evs, cancel("fam", "fp1", "plenty01", at(4*day)), cancel("fam", "fp2", "plenty02", at(10*day)),
		booking.Event{TS: at(20 * day), Type: booking.EventNoShow, AccountID: "fam", PatientID: "fp3", SessionID: "plenty03"})
	if flags := Detect(evs, DefaultConfig()); len(flags) != 0 {
		t.Errorf("got %+v, want no flags", flags)
	}
}

func TestPersonsFollowIdentity(t *testing.T) {
	// The identity appears on some events only; the patient id on others
	// must resolve to it, or one person would count twice.
	var evs []booking.Event
	for i := range 5 {
		p, id := fmt.Sprintf("p%d", i), fmt.Sprintf("id%d", i)
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventPatientAdded, AccountID: "a1", PatientID: p, IdentityID: id})
		evs = append(evs, book("a1", p, fmt.Sprintf("s%d", i), 0, time.Hour))
	}
	if got := fired(t, evs, "a1"); slices.Contains(got, "persons_per_account") {
		t.Errorf("5 persons counted as more: fired %v", got)
	}
}

func TestFlagShape(t *testing.T) {
	var evs []booking.Event
	for j := range 3 {
		evs = append(evs, book("bot", fmt.Sprintf("p%d", j), fmt.Sprintf("s%d", j), time.Duration(j)*day, 50*time.Millisecond))
	}
	flags := Detect(evs, DefaultConfig())
	if len(flags) != 1 {
		t.Fatalf("got %d flags, want 1", len(flags))
	}
	f := flags[0]
	if f.Status != StatusOpen || !strings.HasPrefix(f.FlagID, "flg_") || f.Score < 1 {
		t.Errorf("flag = %+v", f)
	}
	if want := flagID([]string{"bot"}, nil); f.FlagID != want {
		t.Errorf("flag id = %s, want %s (from the members)", f.FlagID, want)
	}
	if want := evs[2].TS; !f.CreatedAt.Equal(want) {
		t.Errorf("created_at = %s, want the last event %s", f.CreatedAt, want)
	}
	if got, want := f.PatientIDs, []string{"p0", "p1", "p2"}; !slices.Equal(got, want) {
		t.Errorf("patients = %v, want %v", got, want)
	}
	if len(f.Reasons) == 0 || f.Reasons[0].Signal != "fast_reaction" || !strings.Contains(f.Reasons[0].Detail, "3 bookings within 300 ms") {
		t.Errorf("reasons = %+v, want fast_reaction with its numbers first", f.Reasons)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		check   func(Config) bool
		wantErr bool
	}{
		{"empty keeps the defaults", `{}`, func(c Config) bool { return c.Threshold == DefaultConfig().Threshold }, false},
		{"one rule changed", `{"rules":{"fast_reaction":{"min":5,"weight":1}}}`, func(c Config) bool {
			return c.Rules.FastReaction == Rule{Min: 5, Weight: 1} && c.Rules.Burst == DefaultConfig().Rules.Burst
		}, false},
		{"durations as text and days", `{"fast_reaction":"250ms","window":"14d"}`, func(c Config) bool {
			return c.FastReaction.D() == 250*time.Millisecond && c.Window.D() == 14*day
		}, false},
		{"a typo is an error", `{"treshold":2}`, nil, true},
		{"a zero threshold is refused", `{"threshold":0}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(strings.NewReader(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !tt.check(c) {
				t.Errorf("config = %+v", c)
			}
		})
	}
}

func TestReadEvents(t *testing.T) {
	in := `{"ts":"2026-11-02T08:00:00.412+08:00","type":"booked","account_id":"a1","patient_id":"p9","session_id":"s3","release_at":"2026-11-02T08:00:00+08:00","something_new":1}

{"ts":"2026-11-02T08:00:01+08:00","type":"login","account_id":"a1"}
`
	evs, err := ReadEvents(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	if got, want := evs[0].TS.Sub(evs[0].ReleaseAt), 412*time.Millisecond; got != want {
		t.Errorf("reaction = %s, want %s", got, want)
	}
	if _, err := ReadEvents(strings.NewReader("{\"ts\":\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v, want one naming line 1", err)
	}
}
