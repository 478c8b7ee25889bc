package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"fairslot/internal/booking"
	"fairslot/loadtest/detecteval/labels"
)

// Traits of the accounts nobody they named ever came from, counted by kind
// of account: the ideas of the detect21 round (docs/detection.md) for telling
// a thin fake-ID farm's account from a family that never came, each a fact
// a farm's account might show and a family's less often. A measurement, not
// a signal: it shows where the genuine accounts lie beside the scalpers
// before anything is built, read from the raw events and not from the
// detector, so that no threshold of the detector's is in it.

const (
	tOnlyScarce = iota // every booking of its own was of a scarce session
	tFresh             // a person booked within 3 days of being added to it
	tDeadline          // two or more of its own cancellations, not late, in the 30 h before the session
	tSittings          // its own cancellations at two sittings or more, an hour apart
	tPassed            // a slot it cancelled booked within 60 s by another account, not a return watcher
	tPassedLate        // … cancelled in the 48 h before the session
	tRetries           // ten or more refused attempts at sessions
	nTraits
)

var traitNames = [nTraits]string{"only scarce", "fresh name", "at the deadline", "two sittings",
	"passed on", "passed on late", "10 refusals"}

// Scarce, for this measurement: a session whose median self-service
// booking came within 10 minutes of its release.
const scarceWithin = 10 * time.Minute

// traitsOf is each trait of every account of the pool: accounts with a
// booking of their own none of whose people ever came (profiles' pUnseen).
// A session starts, for it, at its first check-in or no-show; a session
// with neither has no start and its cancellations count for no timing.
func traitsOf(evs []booking.Event) map[string]*[nTraits]bool {
	ps := profiles(evs)
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return evs[order[a]].TS.Before(evs[order[b]].TS) })

	starts := map[string]time.Time{}
	reactions := map[string][]time.Duration{}
	for i := range evs {
		e := &evs[i]
		switch {
		case e.Type == booking.EventCheckedIn || e.Type == booking.EventNoShow:
			if t, ok := starts[e.SessionID]; e.SessionID != "" && (!ok || e.TS.Before(t)) {
				starts[e.SessionID] = e.TS
			}
		case e.Type == booking.EventBooked && e.Reason == "" && e.StaffID == "" && !e.ReleaseAt.IsZero():
			reactions[e.SessionID] = append(reactions[e.SessionID], e.TS.Sub(e.ReleaseAt))
		}
	}
	scarce := map[string]bool{}
	for s, rs := range reactions {
		slices.Sort(rs)
		scarce[s] = rs[len(rs)/2] <= scarceWithin
	}

	type acct struct {
		added     map[string]time.Time
		bookings  int
		scarce    int
		fresh     bool
		cancels   []*booking.Event
		refusals  int
		firstBook map[string]bool
	}
	accts := map[string]*acct{}
	sessBooked := map[string][]*booking.Event{} // session → self-service bookings not handed over
	var cancels []*booking.Event                // every account's own cancellations
	for _, i := range order {
		e := &evs[i]
		if e.AccountID == "" || e.StaffID != "" {
			continue
		}
		// What the person's verified self ended is not the account's.
		own := e.Type == booking.EventCancelled && !strings.HasSuffix(e.Reason, "_by_person") &&
			(e.ByAccountID == "" || e.ByAccountID == e.AccountID)
		if own {
			cancels = append(cancels, e)
		}
		if e.Type == booking.EventBooked && e.Reason == "" {
			sessBooked[e.SessionID] = append(sessBooked[e.SessionID], e)
		}
		if p := ps[e.AccountID]; p == nil || p[pUnseen] != 1 || p[pBookings] == 0 {
			continue
		}
		a := accts[e.AccountID]
		if a == nil {
			a = &acct{added: map[string]time.Time{}, firstBook: map[string]bool{}}
			accts[e.AccountID] = a
		}
		switch e.Type {
		case booking.EventPatientAdded:
			a.added[e.PatientID] = e.TS
		case booking.EventBooked:
			if e.Reason != "" {
				continue
			}
			a.bookings++
			if scarce[e.SessionID] {
				a.scarce++
			}
			if t, ok := a.added[e.PatientID]; ok && !a.firstBook[e.PatientID] && e.TS.Sub(t) < 3*24*time.Hour {
				a.fresh = true
			}
			a.firstBook[e.PatientID] = true
		case booking.EventCancelled:
			if own {
				a.cancels = append(a.cancels, e)
			}
		case booking.EventRejected:
			if e.SessionID != "" && !e.MadeByOtherAccount && e.PresentedOnAccount == nil {
				a.refusals++
			}
		}
	}
	// A return watcher takes the cancelled slots of three accounts or more:
	// its takes pass nothing on (profiles).
	givers := map[string]map[string]bool{}
	for _, c := range cancels {
		if b := takenBy(c, sessBooked[c.SessionID]); b != nil {
			if givers[b.AccountID] == nil {
				givers[b.AccountID] = map[string]bool{}
			}
			givers[b.AccountID][c.AccountID] = true
		}
	}
	out := make(map[string]*[nTraits]bool, len(accts))
	for id, a := range accts {
		var t [nTraits]bool
		t[tOnlyScarce] = a.bookings > 0 && a.scarce == a.bookings
		t[tFresh] = a.fresh
		t[tRetries] = a.refusals >= 10
		deadline, sittings := 0, 0
		var last time.Time
		for _, c := range a.cancels {
			if last.IsZero() || c.TS.Sub(last) > time.Hour {
				sittings++
			}
			last = c.TS
			start, known := starts[c.SessionID]
			before := start.Sub(c.TS)
			if known && before > 0 && before <= 30*time.Hour && !strings.Contains(c.Reason, "late") {
				deadline++
			}
			if b := takenBy(c, sessBooked[c.SessionID]); b != nil && len(givers[b.AccountID]) < 3 {
				t[tPassed] = true
				if known && before > 0 && before <= 48*time.Hour {
					t[tPassedLate] = true
				}
			}
		}
		t[tDeadline] = deadline >= 2
		t[tSittings] = sittings >= 2
		out[id] = &t
	}
	return out
}

type traits struct {
	counts map[string]*[nTraits + 1]int // kind of account → accounts, then those with each trait
}

func (tr *traits) add(evs []booking.Event, l labels.Labels, ev labels.Evaluation) {
	if tr.counts == nil {
		tr.counts = map[string]*[nTraits + 1]int{}
	}
	missed := map[string]bool{}
	for _, a := range ev.MissedAccounts {
		missed[a] = true
	}
	for a, t := range traitsOf(evs) {
		kind := "genuine " + l.FamilyKinds[a]
		if l.FamilyKinds[a] == "" {
			kind = "genuine " + labels.Ordinary
		}
		if tactic, ok := l.Scalpers[a]; ok {
			kind = tactic
			if missed[a] {
				kind += ", missed"
			}
		}
		c := tr.counts[kind]
		if c == nil {
			c = &[nTraits + 1]int{}
			tr.counts[kind] = c
		}
		c[0]++
		for i, has := range t {
			if has {
				c[i+1]++
			}
		}
	}
}

func (tr *traits) report(w io.Writer) {
	fmt.Fprintln(w, "\ntraits: accounts with a booking none of whose people ever came, and how many of them show each trait")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "account\taccounts\t")
	for _, n := range traitNames {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw)
	for _, k := range slices.Sorted(maps.Keys(tr.counts)) {
		fmt.Fprintf(tw, "%s\t", k)
		for _, n := range tr.counts[k] {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}
