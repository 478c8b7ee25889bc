package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"fairslot/internal/booking"
	"fairslot/loadtest/detecteval/labels"
)

// A bound on what counting can find: for the accounts of a tactic the
// detector missed, how many are matched or exceeded in every count a
// signal could be built on by an account that must not be flagged — a
// genuine account of the traces, or one of the genuine people
// docs/detection.md's table names. A rule that counts evidence (more of it
// is never less suspicious) and flags such a missed account flags that
// genuine account too; the counts are read from the raw events, not from
// the detector, so that they do not depend on its thresholds.

// profile is an account's counts, each one such that more is more
// suspicious.
type profile [nCounts]int

const (
	pBookings  = iota // its own bookings
	pRaced            // sessions it tried for from 2 min before their release to 10 min after
	pNames            // the people it tried for so
	pSpan             // days from its first such try to its last
	pCancelled        // its own cancellations
	pHandoffs         // … of which another account booked the session within 60 s
	pStrangers        // people not on it turned away at the desk with its bookings
	pPersons          // the people it named
	pUnseen           // 1 when none of them ever checked in
	nCounts
)

var countNames = [nCounts]string{"bookings", "sessions raced", "names raced", "days of racing", "cancelled",
	"passed on within 60 s", "strangers at the desk", "persons", "nobody came"}

// genuineTraps are rows of docs/detection.md's "The genuine people it must
// not flag" whose counts the profile holds exactly (a family has up to 5
// persons).
var genuineTraps = []struct {
	who string
	p   profile
}{
	{"a family whose two members each won an expert 20 days apart and cancelled, strangers taking the slots at once", profile{2, 2, 2, 20, 2, 2, 0, 5, 1}},
	{"a patient who raced for an expert at three releases over three weeks and never came", profile{3, 3, 1, 21, 3, 0, 0, 5, 1}},
	{"a release family that won experts for three of its people within 8 days and gave back all six of its bookings for a trip", profile{6, 3, 3, 8, 6, 0, 0, 5, 1}},
}

// profiles counts every account's profile in one trace.
func profiles(evs []booking.Event) map[string]*profile {
	identOf := map[string]string{}
	for i := range evs {
		if e := &evs[i]; e.PatientID != "" && e.IdentityID != "" {
			identOf[e.PatientID] = e.IdentityID
		}
	}
	person := func(e *booking.Event) string {
		if e.IdentityID != "" {
			return e.IdentityID
		}
		if id := identOf[e.PatientID]; id != "" {
			return id
		}
		return e.PatientID
	}
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return evs[order[a]].TS.Before(evs[order[b]].TS) })

	type acct struct {
		persons, names, sessions map[string]bool
		first, last              time.Time
		cancels                  []*booking.Event
	}
	accts := map[string]*acct{}
	get := func(id string) *acct {
		a := accts[id]
		if a == nil {
			a = &acct{persons: map[string]bool{}, names: map[string]bool{}, sessions: map[string]bool{}}
			accts[id] = a
		}
		return a
	}
	out := map[string]*profile{}
	prof := func(id string) *profile {
		p := out[id]
		if p == nil {
			p = &profile{}
			out[id] = p
		}
		return p
	}
	came := map[string]bool{}
	bookedBy := map[string]string{}             // booking → account
	sessBooked := map[string][]*booking.Event{} // session → self-service bookings not handed over
	for _, i := range order {
		e := &evs[i]
		who := person(e)
		switch {
		case e.Type == booking.EventCheckedIn:
			came[who] = true
		case e.Type == booking.EventRejected && e.PresentedOnAccount != nil && !*e.PresentedOnAccount:
			if a := bookedBy[e.BookingID]; a != "" {
				prof(a)[pStrangers]++
			}
		}
		if e.AccountID == "" {
			continue
		}
		a := get(e.AccountID)
		if who != "" && e.Type != booking.EventCheckedIn && e.Type != booking.EventNoShow {
			a.persons[who] = true
		}
		if e.StaffID != "" {
			continue
		}
		p := prof(e.AccountID)
		switch e.Type {
		case booking.EventBooked:
			p[pBookings]++
			bookedBy[e.BookingID] = e.AccountID
			if e.Reason == "" {
				sessBooked[e.SessionID] = append(sessBooked[e.SessionID], e)
			}
		case booking.EventCancelled:
			p[pCancelled]++
			a.cancels = append(a.cancels, e)
		}
		raceable := e.Type == booking.EventBooked && e.Reason == "" || e.Type == booking.EventLotteryEntered ||
			e.Type == booking.EventRejected && e.PresentedOnAccount == nil
		if d := e.TS.Sub(e.ReleaseAt); raceable && !e.ReleaseAt.IsZero() && d >= -2*time.Minute && d <= 10*time.Minute {
			a.sessions[e.SessionID], a.names[who] = true, true
			if a.first.IsZero() {
				a.first = e.TS
			}
			a.last = e.TS
		}
	}
	// A return watcher takes the cancelled slots of three accounts or more:
	// its takes say nothing against who cancelled (docs/detection.md).
	givers := map[string]map[string]bool{}
	for id, a := range accts {
		for _, c := range a.cancels {
			if b := takenBy(c, sessBooked[c.SessionID]); b != nil && b.AccountID != id {
				if givers[b.AccountID] == nil {
					givers[b.AccountID] = map[string]bool{}
				}
				givers[b.AccountID][id] = true
			}
		}
	}
	for id, a := range accts {
		p := prof(id)
		p[pRaced], p[pNames], p[pPersons] = len(a.sessions), len(a.names), len(a.persons)
		p[pSpan] = int(a.last.Sub(a.first) / (24 * time.Hour))
		p[pUnseen] = 1
		for who := range a.persons {
			if came[who] {
				p[pUnseen] = 0
			}
		}
		for _, c := range a.cancels {
			if b := takenBy(c, sessBooked[c.SessionID]); b != nil && len(givers[b.AccountID]) < 3 {
				p[pHandoffs]++
			}
		}
	}
	return out
}

// takenBy is the booking of another account that took the slot c gave
// back within 60 s, if any.
func takenBy(c *booking.Event, booked []*booking.Event) *booking.Event {
	for _, b := range booked {
		if b.AccountID != c.AccountID && b.TS.After(c.TS) && b.TS.Sub(c.TS) <= time.Minute {
			return b
		}
	}
	return nil
}

// covers says whether g has at least every count of p.
func (g *profile) covers(p *profile) bool {
	for i := range p {
		if g[i] < p[i] {
			return false
		}
	}
	return true
}

// dominance gathers, over the traces, the missed accounts of one tactic and
// the genuine accounts, and reports how many of the missed are covered.
type dominance struct {
	tactic  string
	missed  []profile
	genuine []profile
	total   int
}

func (d *dominance) add(evs []booking.Event, l labels.Labels, ev labels.Evaluation) {
	ps := profiles(evs)
	for _, t := range l.Scalpers {
		if t == d.tactic {
			d.total++
		}
	}
	for _, a := range ev.MissedAccounts {
		if l.Scalpers[a] != d.tactic {
			continue
		}
		var p profile
		if x := ps[a]; x != nil {
			p = *x
		}
		d.missed = append(d.missed, p)
	}
	for a, p := range ps {
		if _, scalper := l.Scalpers[a]; !scalper && p[pBookings] > 0 {
			d.genuine = append(d.genuine, *p)
		}
	}
}

func (d *dominance) report(w io.Writer) {
	none, byGenuine, byTrap := 0, 0, make([]int, len(genuineTraps))
next:
	for i := range d.missed {
		p := &d.missed[i]
		if p[pBookings] == 0 {
			none++
			continue
		}
		for j := range genuineTraps {
			if genuineTraps[j].p.covers(p) {
				byTrap[j]++
				continue next
			}
		}
		for k := range d.genuine {
			if d.genuine[k].covers(p) {
				byGenuine++
				continue next
			}
		}
	}
	byTraps := 0
	for _, n := range byTrap {
		byTraps += n
	}
	covered := none + byTraps + byGenuine
	fmt.Fprintf(w, "\n%s: %d of %d accounts missed; counted from the events (%s):\n", d.tactic, len(d.missed), d.total, strings.Join(countNames[:], ", "))
	fmt.Fprintf(w, "  %d booked nothing\n", none)
	for j, t := range genuineTraps {
		fmt.Fprintf(w, "  %d matched or exceeded in every count by %s %v\n", byTrap[j], t.who, t.p)
	}
	fmt.Fprintf(w, "  %d matched or exceeded in every count by one of the %d genuine accounts with a booking\n", byGenuine, len(d.genuine))
	if d.total > 0 {
		fmt.Fprintf(w, "  so a rule that counts these finds at most %d of %d (%.3f) if it flags none of the genuine cases, %d (%.3f) if none of those accounts either\n",
			d.total-none-byTraps, d.total, float64(d.total-none-byTraps)/float64(d.total), d.total-covered, float64(d.total-covered)/float64(d.total))
	}
}
