package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"fairslot/internal/booking"
	"fairslot/loadtest/detecteval/labels"
)

// Whether accounts nobody they named ever came from act in concert: one
// operator working several accounts that share nothing visible (a thin
// fake-ID farm, each account on a handset, number and line of its own)
// still has one pair of hands and one list of sessions to sell, so its
// accounts would race the same sessions, or the same release, within
// seconds of each other again and again. A measurement, not a signal
// (docs/detection.md, the detect16 round): for every such account, the
// most sessions (or releases) at which one other such account, sharing no
// handset or number with it, made its first try within the window of its
// own — counted by kind of account, so that where the genuine accounts lie
// is seen beside the scalpers.

// concertBy says what two accounts must have raced together: the same
// session, or the same release of a hospital (every session it opens at
// that moment).
const (
	concertSession = "session"
	concertRelease = "release"
)

type concert struct {
	window time.Duration
	by     string
	hist   map[string]map[int]int // kind of account → most races shared with one partner → accounts
}

// concertOf is the most races each account of the pool shared with one
// partner: accounts none of whose people ever came (profiles' pUnseen),
// first tries within window of each other at the same session (or
// release), the two sharing no handset or number.
func concertOf(evs []booking.Event, window time.Duration, by string) map[string]int {
	ps := profiles(evs)
	first := map[string]map[string]time.Time{} // account → session or release → its first try
	handsets := map[string]map[string]bool{}   // account → its devices and phones
	for i := range evs {
		e := &evs[i]
		if e.AccountID == "" || e.StaffID != "" {
			continue
		}
		if handsets[e.AccountID] == nil {
			handsets[e.AccountID] = map[string]bool{}
		}
		if e.DeviceID != "" {
			handsets[e.AccountID]["device "+e.DeviceID] = true
		}
		if e.Phone != "" {
			handsets[e.AccountID]["phone "+e.Phone] = true
		}
		if p := ps[e.AccountID]; p == nil || p[pUnseen] != 1 {
			continue
		}
		try := e.Type == booking.EventBooked && e.Reason == "" || e.Type == booking.EventLotteryEntered ||
			e.Type == booking.EventRejected && e.PresentedOnAccount == nil && !e.MadeByOtherAccount
		d := e.TS.Sub(e.ReleaseAt)
		if !try || e.SessionID == "" || e.ReleaseAt.IsZero() || d < -2*time.Minute || d > 10*time.Minute {
			continue
		}
		key := e.SessionID
		if by == concertRelease {
			key = e.HospitalID + " " + e.ReleaseAt.UTC().Format(time.RFC3339Nano)
		}
		if first[e.AccountID] == nil {
			first[e.AccountID] = map[string]time.Time{}
		}
		if t, ok := first[e.AccountID][key]; !ok || e.TS.Before(t) {
			first[e.AccountID][key] = e.TS
		}
	}
	type try struct {
		acct string
		at   time.Time
	}
	at := map[string][]try{}
	for a, m := range first {
		for k, t := range m {
			at[k] = append(at[k], try{a, t})
		}
	}
	together := map[[2]string]int{}
	for _, ts := range at {
		sort.Slice(ts, func(i, j int) bool {
			return ts[i].at.Before(ts[j].at) || ts[i].at.Equal(ts[j].at) && ts[i].acct < ts[j].acct
		})
		for i := range ts {
			for j := i + 1; j < len(ts) && ts[j].at.Sub(ts[i].at) <= window; j++ {
				a, b := min(ts[i].acct, ts[j].acct), max(ts[i].acct, ts[j].acct)
				together[[2]string{a, b}]++
			}
		}
	}
	out := make(map[string]int, len(first))
	for a := range first {
		out[a] = 0
	}
	for p, n := range together {
		if shareHandset(handsets[p[0]], handsets[p[1]]) {
			continue
		}
		out[p[0]], out[p[1]] = max(out[p[0]], n), max(out[p[1]], n)
	}
	return out
}

func shareHandset(a, b map[string]bool) bool {
	for h := range a {
		if b[h] {
			return true
		}
	}
	return false
}

func (c *concert) add(evs []booking.Event, l labels.Labels, ev labels.Evaluation) {
	if c.hist == nil {
		c.hist = map[string]map[int]int{}
	}
	missed := map[string]bool{}
	for _, a := range ev.MissedAccounts {
		missed[a] = true
	}
	for a, n := range concertOf(evs, c.window, c.by) {
		kind := "genuine " + l.FamilyKinds[a]
		if l.FamilyKinds[a] == "" {
			kind = "genuine " + labels.Ordinary
		}
		if t, ok := l.Scalpers[a]; ok {
			kind = t
			if missed[a] {
				kind += ", missed"
			}
		}
		if c.hist[kind] == nil {
			c.hist[kind] = map[int]int{}
		}
		c.hist[kind][min(n, concertMost)]++
	}
}

// concertMost is the last column of the report: that many or more.
const concertMost = 5

func (c *concert) report(w io.Writer) {
	fmt.Fprintf(w, "\nin concert: accounts none of whose people ever came that raced, by the most %ss at which one other such account, sharing no handset or number, made its first try within %s of theirs\n", c.by, c.window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "account\t")
	for n := 0; n <= concertMost; n++ {
		if n == concertMost {
			fmt.Fprintf(tw, "%d+\t", n)
		} else {
			fmt.Fprintf(tw, "%d\t", n)
		}
	}
	fmt.Fprintln(tw)
	for _, k := range slices.Sorted(maps.Keys(c.hist)) {
		fmt.Fprintf(tw, "%s\t", k)
		for n := 0; n <= concertMost; n++ {
			fmt.Fprintf(tw, "%d\t", c.hist[k][n])
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}
