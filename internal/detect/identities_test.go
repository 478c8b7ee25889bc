package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// Other people's identities: refused identity claims (claims_refused) and
// what the person's verified self ended (ended_by_person), with the people
// the squatter wronged, who must gain nothing from it.

// claim is account a's add of a patient refused with reason (identity_taken,
// identity_unverified, identity_claims_limited) for the person ident ("" when
// the stream does not say, as for the 429).
func claim(a, ident, reason string, ts time.Time) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventRejected, AccountID: a, IdentityID: ident, Reason: reason,
		DeviceID: "dev-" + a, IP: "ip-" + a}
}

// squatted: account maker adds person p (identity id-p) and books session s
// for them; p's verified self, on account by, cancels it from their own
// handset (by "" for a stream that names nobody, the reason alone) and, a
// few seconds later, books the slot for themself.
func squatted(maker, by, p, s string, off time.Duration) []booking.Event {
	add := booking.Event{TS: at(off - 10*day), Type: booking.EventPatientAdded, AccountID: maker, PatientID: maker + "-" + p,
		IdentityID: "id-" + p, DeviceID: "dev-" + maker, IP: "ip-" + maker}
	b := book(maker, maker+"-"+p, s, off, 2*time.Second)
	end := cancel(maker, maker+"-"+p, s, at(off+2*day))
	end.Reason, end.ByAccountID, end.DeviceID, end.IP = "cancelled_by_person", by, "dev-"+by, "ip-"+by
	own := "victim-" + p
	if by != "" {
		own = by
	}
	self := book(own, own+"-self", s, off, 2*day+5*time.Second)
	self.IdentityID = "id-" + p
	return []booking.Event{add, b, end, self}
}

// keptOut: account maker adds person p and books session s for them;
// p, from their own account by, tries to book s and is refused for it
// (made_by_other_account). With gone, the maker had cancelled it first.
func keptOut(maker, by, p, s string, off time.Duration, gone bool) []booking.Event {
	evs := squatted(maker, by, p, s, off)[:2]
	if gone {
		evs = append(evs, cancel(maker, maker+"-"+p, s, at(off+time.Hour)))
	}
	r := refused(by, by+"-self", s, at(off+2*time.Hour), "already_booked")
	r.IdentityID, r.MadeByOtherAccount = "id-"+p, true
	return append(evs, r)
}

// keptOutAt: account maker adds person p and books session s for them
// (or, with entry, enters them in its draw); p, from their own account by,
// is refused at session at, for reason, naming the maker (by_account_id)
// as the service does for the person's verified self.
func keptOutAt(maker, by, p, s, at_, reason string, off time.Duration, entry bool) []booking.Event {
	evs := squatted(maker, by, p, s, off)[:2]
	if entry {
		evs[1].Type, evs[1].BookingID = booking.EventLotteryEntered, ""
	}
	r := refused(by, by+"-self", at_, at(off+2*time.Hour), reason)
	r.IdentityID, r.MadeByOtherAccount, r.ByAccountID = "id-"+p, true, maker
	return append(evs, r)
}

// refusedThree: three people sq booked sessions s1, s2, s3 for (or entered
// them in their draws), each refused at where(session) for the reason of
// their turn, the maker named.
func refusedThree(where func(string) string, entry bool, reasons ...string) []booking.Event {
	var evs []booking.Event
	for i, r := range reasons {
		p, s := string(rune('a'+i)), fmt.Sprintf("s%d", i+1)
		evs = append(evs, keptOutAt("sq", "v"+p, "p"+p, s, where(s), r, time.Duration(i)*day, entry)...)
	}
	return evs
}

// elsewhere is keptOut as the service writes it for a person whose self
// is not verified: the uniform person_booked_elsewhere, no mark, nobody
// named.
func elsewhere(maker, by, p, s string, off time.Duration) []booking.Event {
	evs := keptOut(maker, by, p, s, off, false)
	r := &evs[len(evs)-1]
	r.Reason, r.MadeByOtherAccount = "person_booked_elsewhere", false
	return evs
}

// claims is account a refused for n different numbers (each once) and, when
// limited, turned away twice more past the day's limit.
func claims(a string, n int, limited bool) []booking.Event {
	var out []booking.Event
	for i := range n {
		reason := "identity_taken"
		if i%2 == 1 {
			reason = "identity_unverified"
		}
		out = append(out, claim(a, fmt.Sprintf("id-owner%d", i), reason, at(time.Duration(i)*time.Hour)))
	}
	if limited {
		out = append(out, claim(a, "", "identity_claims_limited", at(time.Duration(n)*time.Hour)),
			claim(a, "", "identity_claims_limited", at(time.Duration(n+1)*time.Hour)))
	}
	return out
}

// retries is account a's person p refused n times within a minute at
// session s, made_by_other_account as byOthers says.
func retries(a, p, s string, n int, byOthers bool) []booking.Event {
	var out []booking.Event
	for i := range n {
		e := refused(a, p, s, at(3*day+time.Duration(i)*3*time.Second), "already_booked")
		e.MadeByOtherAccount = byOthers
		out = append(out, e)
	}
	return out
}

func TestIdentitySignals(t *testing.T) {
	tests := []signalCase{
		{"claims_refused: three different numbers refused", func() []booking.Event { return claims("farm", 3, false) }, "farm", "claims_refused", true},
		{"claims_refused: two (a typo and the person's older account) do not", func() []booking.Event { return claims("fam", 2, false) }, "fam", "claims_refused", false},
		{"claims_refused: one number retried until the day's limit is one number", func() []booking.Event {
			evs := []booking.Event{}
			for i := range 3 {
				evs = append(evs, claim("fam", "id-mother", "identity_unverified", at(time.Duration(i)*time.Minute)))
			}
			return append(evs, claim("fam", "", "identity_claims_limited", at(5*time.Minute)))
		}, "fam", "claims_refused", false},
		{"claims_refused: refusals that name nobody say nothing", func() []booking.Event {
			var evs []booking.Event
			for i := range 5 {
				evs = append(evs, claim("old", "", "identity_taken", at(time.Duration(i)*day)))
			}
			return evs
		}, "old", "claims_refused", false},
		{"claims_refused: a refused booking under an unverified name is not a claim", func() []booking.Event {
			var evs []booking.Event
			for i := range 4 {
				e := refused("fam", fmt.Sprintf("p%d", i), "s1", at(time.Duration(i)*time.Hour), "identity_unverified")
				e.IdentityID = fmt.Sprintf("id-p%d", i)
				evs = append(evs, e)
			}
			return evs
		}, "fam", "claims_refused", false},
		{"ended_by_person: three people cancelled what it booked for them", func() []booking.Event {
			return slices.Concat(squatted("sq", "va", "pa", "s1", 0), squatted("sq", "vb", "pb", "s2", day), squatted("sq", "vc", "pc", "s3", 2*day))
		}, "sq", "ended_by_person", true},
		{"ended_by_person: … from the reason alone (a stream that names no account)", func() []booking.Event {
			return slices.Concat(squatted("sq", "", "pa", "s1", 0), squatted("sq", "", "pb", "s2", day), squatted("sq", "", "pc", "s3", 2*day))
		}, "sq", "ended_by_person", true},
		{"ended_by_person: two (a daughter's two parents, each on an account of their own) do not", func() []booking.Event {
			return append(squatted("kin", "mum", "pa", "s1", 0), squatted("kin", "dad", "pb", "s2", day)...)
		}, "kin", "ended_by_person", false},
		{"ended_by_person: three people refused their own booking of a session it held for them", func() []booking.Event {
			return slices.Concat(keptOut("sq", "va", "pa", "s1", 0, false), keptOut("sq", "vb", "pb", "s2", day, false), keptOut("sq", "vc", "pc", "s3", 2*day, false))
		}, "sq", "ended_by_person", true},
		{"ended_by_person: … not once it had given the slots back", func() []booking.Event {
			return slices.Concat(keptOut("sq", "va", "pa", "s1", 0, true), keptOut("sq", "vb", "pb", "s2", day, true), keptOut("sq", "vc", "pc", "s3", 2*day, true))
		}, "sq", "ended_by_person", false},
		{"ended_by_person: three people refused at their department that day, whose quota its booking filled, the maker named", func() []booking.Event {
			return refusedThree(func(s string) string { return s + "pm" }, false, "quota_day_department", "quota_day_department", "quota_day_department")
		}, "sq", "ended_by_person", true},
		{"ended_by_person: three people refused their own entry in a draw it entered them in, the maker named", func() []booking.Event {
			return refusedThree(func(s string) string { return s }, true, "already_entered", "already_entered", "already_entered")
		}, "sq", "ended_by_person", true},
		{"ended_by_person: … not for the day's, week's or month's quota its bookings filled: another visit, which the person may have asked for", func() []booking.Event {
			return refusedThree(func(s string) string { return "eye-" + s }, false, "quota_week", "quota_day", "quota_month")
		}, "sq", "ended_by_person", false},
		{"ended_by_person: three people told person_booked_elsewhere at a session it held for them (unverified)", func() []booking.Event {
			return slices.Concat(elsewhere("sq", "va", "pa", "s1", 0), elsewhere("sq", "vb", "pb", "s2", day), elsewhere("sq", "vc", "pc", "s3", 2*day))
		}, "sq", "ended_by_person", true},
		{"ended_by_person: the person who cancelled gains nothing", func() []booking.Event {
			return append(squatted("sq", "va", "pa", "s1", 0), squatted("sq", "va", "pa", "s2", day)...)
		}, "va", "ended_by_person", false},
	}
	for i := range tests {
		evs := tests[i].events
		tests[i].events = func() []booking.Event { return append(background(50), evs()...) }
	}
	checkSignals(t, tests)
}

// TestVictimsGainNothing: what a squatter made and its person ended, and the
// person's refusals because of it, score nothing for the person: not a
// hand-off between them (the person rebooks the slot at once), not the
// squatter's handset, not the person's retries.
func TestVictimsGainNothing(t *testing.T) {
	scarce := func(evs []booking.Event) []booking.Event {
		for i := range 2 {
			evs = append(evs, hot(fmt.Sprintf("s%d", i+1), time.Duration(i)*day)...)
		}
		return append(background(100), evs...)
	}
	t.Run("two scarce slots a person rebooked after cancelling them from the squatter are no hand-offs", func(t *testing.T) {
		evs := scarce(append(squatted("sq", "va", "pa", "s1", 0), squatted("sq", "vb", "pb", "s2", day)...))
		if got := fired(t, evs, "sq"); slices.Contains(got, "handoff_given") || slices.Contains(got, "bulk_cancel") {
			t.Errorf("the squatter's signals %v count the persons' cancellations as its own", got)
		}
		for _, v := range []string{"va", "vb"} {
			if got := fired(t, evs, v); len(got) != 0 {
				t.Errorf("the person %s has signals %v", v, got)
			}
		}
		// The near miss: the squatter cancelling them itself, the persons
		// booking at once, is its hand-offs.
		for i := range evs {
			if evs[i].Reason == "cancelled_by_person" {
				evs[i].Reason, evs[i].ByAccountID, evs[i].DeviceID, evs[i].IP = "", "", "dev-sq", "ip-sq"
			}
		}
		if got := fired(t, evs, "sq"); !slices.Contains(got, "handoff_given") {
			t.Errorf("its own cancellations: signals %v, want handoff_given", got)
		}
	})
	t.Run("the persons' handsets are not the squatter's", func(t *testing.T) {
		// Five people ending from their own phones what it made for them
		// would be five handsets of its own (device_churn).
		var evs []booking.Event
		for i, v := range []string{"va", "vb", "vc", "vd", "ve"} {
			evs = append(evs, squatted("sq", v, "p"+v, fmt.Sprintf("plenty%02d", i), time.Duration(i)*day)...)
		}
		if got := fired(t, append(background(100), evs...), "sq"); slices.Contains(got, "device_churn") {
			t.Errorf("signals %v: the persons' handsets counted as the squatter's", got)
		}
	})
	t.Run("refusals for what another account made are not the person's retries", func(t *testing.T) {
		for _, byOthers := range []bool{true, false} {
			got := fired(t, append(background(50), retries("va", "pa", "s1", 20, byOthers)...), "va")
			if slices.Contains(got, "retry_storm") == byOthers {
				t.Errorf("made_by_other_account %v: signals %v; want retry_storm only for the account's own refusals", byOthers, got)
			}
		}
	})
	t.Run("nor are refusals told person_booked_elsewhere", func(t *testing.T) {
		// What an account that is not the person's verified self hears
		// instead of already_booked when it cannot be shown to have made
		// the booking: the same, with no mark.
		evs := retries("va", "pa", "s1", 20, false)
		for i := range evs {
			evs[i].Reason = "person_booked_elsewhere"
		}
		if got := fired(t, append(background(50), evs...), "va"); slices.Contains(got, "retry_storm") {
			t.Errorf("signals %v; want no retry_storm for refusals told person_booked_elsewhere", got)
		}
	})
}

// TestDisownedPersonsLinkNobody: a couple on one family account (the wife's
// self and her husband, who is his own account's self), both squatted by
// one account and both ending what it made: the two people in common are
// no tie between the squatter and the family. Without the ending they are.
func TestDisownedPersonsLinkNobody(t *testing.T) {
	trace := func(ended bool) []booking.Event {
		evs := append(squatted("sq", "fam", "wife", "plenty01", 0), squatted("sq", "husband", "husband", "plenty02", day)...)
		for _, p := range []string{"wife", "husband"} {
			evs = append(evs, booking.Event{TS: at(-day), Type: booking.EventPatientAdded, AccountID: "fam", PatientID: "fam-" + p,
				IdentityID: "id-" + p, DeviceID: "dev-fam"})
		}
		if !ended {
			for i := range evs {
				if evs[i].Reason == "cancelled_by_person" {
					evs[i].Reason, evs[i].ByAccountID = "", ""
				}
			}
		}
		return append(background(20), evs...)
	}
	for _, ended := range []bool{true, false} {
		in := NewInput()
		for _, e := range trace(ended) {
			in.Add(&e)
		}
		d := newDetector(in, DefaultConfig())
		d.index()
		g, _ := d.link()
		sqSym, _ := d.strs.search("sq")
		famSym, _ := d.strs.search("fam")
		sq, fam := d.acctOf[sqSym], d.acctOf[famSym]
		if linked := g.find(sq) == g.find(fam); linked == ended {
			t.Errorf("ended by the persons %v: squatter and family linked %v, want %v", ended, linked, !ended)
		}
	}
}

func TestIdentityRule(t *testing.T) {
	squatter := func(numbers, persons int) []booking.Event {
		evs := append(background(200), claims("sq", numbers, numbers >= 3)...)
		for i := range persons {
			p := fmt.Sprintf("p%d", i)
			evs = append(evs, squatted("sq", "v"+p, p, fmt.Sprintf("plenty%02d", i), time.Duration(i)*day)...)
		}
		return evs
	}
	for _, c := range []struct {
		name             string
		numbers, persons int
		want             []string
	}{
		{"three numbers refused and three people who ended what it made for them flag it, never the people", 3, 3, []string{"sq"}},
		{"two numbers refused and three people do not (a family's typo and an older account)", 2, 3, nil},
		{"three numbers and two people (a daughter's parents) do not", 3, 2, nil},
		{"ten numbers refused alone never flag", 10, 0, nil},
		{"five people who ended what it made alone never flag", 0, 5, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := flaggedAccounts(squatter(c.numbers, c.persons)); !slices.Equal(got, c.want) {
				t.Errorf("flagged %v, want %v", got, c.want)
			}
		})
	}
}

// TestKeptOutReadAlike: a person kept out of a session another account
// holds for them is told already_booked, made_by_other_account, with the
// maker named, when their self is verified, and person_booked_elsewhere
// otherwise (docs/security.md); the detector reads the two alike — the
// same flags, scores and reasons for the squatter, nothing for the people.
func TestKeptOutReadAlike(t *testing.T) {
	trace := func(kept func(maker, by, p, s string, off time.Duration) []booking.Event) []booking.Event {
		evs := append(background(200), claims("sq", 3, true)...)
		for i := range 3 {
			p := fmt.Sprintf("p%d", i)
			evs = append(evs, kept("sq", "v"+p, p, fmt.Sprintf("plenty%02d", i), time.Duration(i)*day)...)
		}
		return evs
	}
	verified := trace(func(maker, by, p, s string, off time.Duration) []booking.Event {
		return keptOutAt(maker, by, p, s, s, "already_booked", off, false)
	})
	unverified := trace(elsewhere)
	a, b := Detect(verified, DefaultConfig()), Detect(unverified, DefaultConfig())
	if len(a) != 1 || !slices.Equal(a[0].AccountIDs, []string{"sq"}) {
		t.Fatalf("verified people: flags %v, want the squatter's alone", flaggedAccounts(verified))
	}
	if len(b) != len(a) || b[0].Score != a[0].Score || !slices.Equal(b[0].AccountIDs, a[0].AccountIDs) ||
		b[0].Explanation != a[0].Explanation {
		t.Errorf("unverified people: %+v\nwant as the verified: %+v", b, a)
	}
}

// othersBooked: account sq puts n people on it and books a session for
// each, which it then gives back (cancelled, sold at the second or
// unsold); each person is a patient of an account of their own ("own-p0"…),
// where they book and come. shareHandset of them have those accounts on
// sq's handset (a relative's account a son set up on his own phone);
// usedOwn books one more session for sq's own holder, who comes.
func othersBooked(n, shareHandset int, usedOwn bool) []booking.Event {
	var evs []booking.Event
	for i := range n {
		p, own := fmt.Sprintf("p%d", i), fmt.Sprintf("own-p%d", i)
		s, mine := fmt.Sprintf("plain%d", i), fmt.Sprintf("theirs%d", i)
		off := time.Duration(i) * 2 * day
		evs = append(evs, visited(s, off)...)
		evs = append(evs, visited(mine, off)...)
		b := book("sq", p, s, off, 5*time.Hour)
		b.IdentityID = "id-" + p
		evs = append(evs, b, cancel("sq", p, s, at(off+day)))
		ob := book(own, own+"-self", mine, off, 6*time.Hour)
		ob.IdentityID = "id-" + p
		if i < shareHandset {
			ob.DeviceID = "dev-sq"
		}
		c := checkIn(own, own+"-self", mine, at(off+7*day))
		c.IdentityID = "id-" + p
		evs = append(evs, ob, c)
	}
	if usedOwn {
		evs = append(evs, visited("mine", 0)...)
		evs = append(evs, book("sq", "sq-self", "mine", 0, 5*time.Hour), checkIn("sq", "sq-self", "mine", at(7*day)))
	}
	return append(evs, booking.Event{TS: at(time.Duration(n)*2*day + 10*day), Type: booking.EventLogin, AccountID: "other"})
}

// disownedAndOthers: account sq books n people who disown it — each
// cancels it from their own account and books the slot for themself, and
// comes — and m people of accounts of their own whose slots it gives back
// (othersBooked's, under other names; the first shareHandset of those
// accounts on sq's handset). Nothing sq booked is used.
func disownedAndOthers(n, m, shareHandset int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		p, s, off := fmt.Sprintf("d%d", i), fmt.Sprintf("dis%d", i), time.Duration(i)*2*day
		evs = append(evs, visited(s, off)...)
		sq := squatted("sq", "v"+p, p, s, off)
		c := checkIn("v"+p, "v"+p+"-self", s, at(off+7*day))
		c.IdentityID = "id-" + p
		evs = append(evs, append(sq, c)...)
	}
	for _, e := range othersBooked(m, shareHandset, false) {
		if e.Type == booking.EventLogin {
			continue
		}
		evs = append(evs, e)
	}
	return append(evs, booking.Event{TS: at(time.Duration(n+m)*2*day + 10*day), Type: booking.EventLogin, AccountID: "other"})
}

// othersUnseen: account sq books m people of accounts of their own who
// never come anywhere (their own accounts book, and give it back), and
// gives their slots back; and came of othersBooked's people, who come on
// their own accounts. Nothing sq booked is used.
func othersUnseen(m, came int) []booking.Event {
	var evs []booking.Event
	for i := range m {
		p, own := fmt.Sprintf("u%d", i), fmt.Sprintf("own-u%d", i)
		s, mine := fmt.Sprintf("uplain%d", i), fmt.Sprintf("utheirs%d", i)
		off := time.Duration(i) * 2 * day
		evs = append(evs, visited(s, off)...)
		evs = append(evs, visited(mine, off)...)
		b := book("sq", p, s, off, 5*time.Hour)
		b.IdentityID = "id-" + p
		ob := book(own, own+"-self", mine, off, 6*time.Hour)
		ob.IdentityID = "id-" + p
		evs = append(evs, b, cancel("sq", p, s, at(off+day)), ob, cancel(own, own+"-self", mine, at(off+3*day)))
	}
	for _, e := range othersBooked(came, 0, false) {
		if e.Type != booking.EventLogin {
			evs = append(evs, e)
		}
	}
	return append(evs, booking.Event{TS: at(time.Duration(m+came)*2*day + 10*day), Type: booking.EventLogin, AccountID: "other"})
}

func TestOthersPatients(t *testing.T) {
	tests := []signalCase{
		{"others_patients: three people of accounts of their own, every slot it booked them given back, nothing it booked used", func() []booking.Event { return othersBooked(3, 0, false) }, "sq", "others_patients", true},
		{"others_patients: two (a son's two parents, each on an account of their own) do not", func() []booking.Event { return othersBooked(2, 0, false) }, "sq", "others_patients", false},
		{"others_patients: three, one of whose accounts is on its own handset (a relative's account set up on the family's phone), do not", func() []booking.Event { return othersBooked(3, 1, false) }, "sq", "others_patients", false},
		{"others_patients: three, when something it booked was used (its own people come), do not", func() []booking.Event { return othersBooked(3, 0, true) }, "sq", "others_patients", false},
		{"others_patients: people who were kept out by what it made are ended_by_person's, not counted again", func() []booking.Event {
			var evs []booking.Event
			for i := range 3 {
				p, s, off := fmt.Sprintf("p%d", i), fmt.Sprintf("plain%d", i), time.Duration(i)*2*day
				evs = append(evs, visited(s, off)...)
				evs = append(evs, keptOutAt("sq", "v"+p, p, s, s, "already_booked", off, false)...)
				evs = append(evs, cancel("sq", "sq-"+p, s, at(off+day)))
			}
			return append(evs, booking.Event{TS: at(20 * day), Type: booking.EventLogin, AccountID: "other"})
		}, "sq", "others_patients", false},
		{"others_patients: a stream with no check-in at all says nothing", func() []booking.Event { return withoutCheckIns(othersBooked(3, 0, false)) }, "sq", "others_patients", false},
		// The detect20 round: people who disowned it — too few for
		// ended_by_person — are somebody else's patients as surely as
		// those who did not notice, and count here, once.
		{"others_patients: two who disowned it and one of an account of their own whose slot it gave back are three", func() []booking.Event { return disownedAndOthers(2, 1, 0) }, "sq", "others_patients", true},
		{"others_patients: one who disowned it and two of accounts of their own are three", func() []booking.Event { return disownedAndOthers(1, 2, 0) }, "sq", "others_patients", true},
		{"others_patients: two who disowned it and nobody else (a son's two parents) do not", func() []booking.Event { return disownedAndOthers(2, 0, 0) }, "sq", "others_patients", false},
		{"others_patients: two who disowned it and one whose account is on its handset (a relative's, set up on the family's phone) do not", func() []booking.Event { return disownedAndOthers(2, 1, 1) }, "sq", "others_patients", false},
		{"others_patients: three who disowned it are ended_by_person's; with one more of another account it counts that one alone", func() []booking.Event { return disownedAndOthers(3, 1, 0) }, "sq", "others_patients", false},
	}
	for i := range tests {
		evs := tests[i].events
		tests[i].events = func() []booking.Event { return append(background(50), evs()...) }
	}
	checkSignals(t, tests)
	// A squatter that also sold one of the slots at the second: non_use
	// and transfer (unseen_passed_on, its people coming only through
	// accounts of their own) flag it. The near miss is a family whose
	// people have accounts on its own handset: neither counts.
	for _, household := range []bool{false, true} {
		shared := 0
		if household {
			shared = 3
		}
		evs := append(append(background(50), othersBooked(3, shared, false)...), handedOff("sq", true, 5*time.Second)...)
		if got := flaggedAccounts(evs); slices.Contains(got, "sq") == household {
			t.Errorf("their accounts on its handset %v: flagged %v", household, got)
		}
		if household {
			continue
		}
		for _, f := range Detect(evs, DefaultConfig()) {
			for _, r := range f.Reasons {
				switch r.Signal {
				case "unseen_passed_on":
					if !strings.Contains(r.Detail, "came only with bookings of accounts it shares no handset or number with") || !strings.Contains(r.DetailZH, "是别人的就诊人") {
						t.Errorf("unseen_passed_on reason %q / %q does not say its people are somebody else's", r.Detail, r.DetailZH)
					}
				case "others_patients":
					if !strings.Contains(r.Detail, "3 of the people it booked") || !strings.Contains(r.DetailZH, "有 3 位") || r.Kind != kNonUse || r.Points != 0.5 {
						t.Errorf("others_patients reason %q / %q, %s %.2f", r.Detail, r.DetailZH, r.Kind, r.Points)
					}
				}
			}
		}
	}
	// Two who disowned it and one of another account, with one scarce
	// slot sold at the second: others_patients and unseen_passed_on, two
	// kinds, flag it; without the slot sold, non-use alone does not, nor
	// do the two parents alone with the slot sold.
	for _, c := range []struct {
		disowned, others int
		sold, want       bool
	}{{2, 1, true, true}, {2, 1, false, false}, {2, 0, true, false}} {
		evs := append(background(50), disownedAndOthers(c.disowned, c.others, 0)...)
		if c.sold {
			evs = append(evs, handedOff("sq", true, 5*time.Second)...)
		}
		if got := flaggedAccounts(evs); slices.Contains(got, "sq") != c.want {
			t.Errorf("%d who disowned it, %d of other accounts, a slot sold %v: flagged %v, want the squatter flagged %v", c.disowned, c.others, c.sold, got, c.want)
		}
	}
	// A squatter only one of whose people ever came (on their own
	// account), the other two on accounts of their own and never seen:
	// others_patients says its people are somebody else's, so a scarce
	// slot passed on at the second is a sale (unseen_passed_on) — two
	// kinds. Its near misses: two such people (a son's two parents) and
	// one who came, the slot sold; and the three without a slot sold.
	for _, c := range []struct {
		unseen, came int
		sold, want   bool
	}{{2, 1, true, true}, {1, 1, true, false}, {2, 1, false, false}} {
		evs := append(background(50), othersUnseen(c.unseen, c.came)...)
		if c.sold {
			evs = append(evs, handedOff("sq", true, 5*time.Second)...)
		}
		if got := flaggedAccounts(evs); slices.Contains(got, "sq") != c.want {
			t.Errorf("%d of other accounts never seen, %d who came on their own, a slot sold %v: flagged %v, want the squatter flagged %v", c.unseen, c.came, c.sold, got, c.want)
		}
	}
	// Never alone: three such people flag it with three numbers refused,
	// and alone they do not.
	for _, numbers := range []int{0, 3} {
		evs := append(append(background(50), claims("sq", numbers, false)...), othersBooked(3, 0, false)...)
		if got, want := flaggedAccounts(evs), numbers > 0; slices.Contains(got, "sq") != want {
			t.Errorf("%d numbers refused: flagged %v, want the squatter flagged %v", numbers, got, want)
		}
	}
}
