// Package labels holds the labels of a booking-event trace (which accounts
// are scalpers, of which tactic; which are genuine, of which kind) and
// measures the detector's flags against them: precision and recall overall,
// recall per tactic, accounts flagged per genuine kind. The generators of
// loadtest/detecteval write these labels; a trace from anywhere else can be
// measured by writing its labels in the same JSON.
package labels

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"fairslot/internal/detect"
)

// Labels say who is who in a trace.
type Labels struct {
	Seed uint64 `json:"seed,omitempty"`
	// Generator names the generator that made the trace.
	Generator string `json:"generator,omitempty"`
	// Scalpers maps each scalper account (and each insider's staff id) to
	// its tactic: bot, macro, ring, farm, fake_farm, handoff, low_slow,
	// hoarder, watcher, insider.
	Scalpers map[string]string `json:"scalpers"`
	// Families are the genuine accounts; every account of the trace that
	// is not a scalper counts as genuine, named here or not.
	Families []string `json:"families"`
	// GenuineStaff are the clerks, operators and referrers that did nothing
	// wrong.
	GenuineStaff []string `json:"genuine_staff,omitempty"`
	// FamilyKinds names the genuine accounts that look a little like
	// scalpers on purpose, by kind ("carer", "household", "fast",
	// "kiosk", "chronic", "canceller", "release", "careless", "trip",
	// "grandparent"); the others are "ordinary".
	FamilyKinds map[string]string `json:"family_kinds,omitempty"`
}

// Ordinary is the kind of a genuine account the labels do not name.
const Ordinary = "ordinary"

// Read reads a labels file.
func Read(r io.Reader) (Labels, error) {
	var l Labels
	if err := json.NewDecoder(r).Decode(&l); err != nil {
		return l, fmt.Errorf("read labels: %w", err)
	}
	return l, nil
}

// Write writes labels as indented JSON.
func Write(w io.Writer, l Labels) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}

// Kind is the count of one tactic or one genuine kind.
type Kind struct {
	Accounts int `json:"accounts"`
	Flagged  int `json:"flagged"`
}

// Evaluation measures flags against labels, by account: an account is
// flagged when any flag names it.
type Evaluation struct {
	Flags         int     `json:"flags"`
	Flagged       int     `json:"flagged_accounts"`
	Scalpers      int     `json:"scalper_accounts"`
	TruePositives int     `json:"true_positives"`
	Precision     float64 `json:"precision"`
	Recall        float64 `json:"recall"`
	// FamiliesFlagged counts the genuine accounts of Families (carers,
	// fast users and kiosk users included) that a flag names.
	FamiliesFlagged int `json:"families_flagged"`
	// LargestFlag is the most accounts one flag names.
	LargestFlag int `json:"largest_flag"`
	// Tactics: recall per scalper tactic; Genuine: false positives per
	// genuine kind.
	Tactics        map[string]Kind `json:"tactics"`
	Genuine        map[string]Kind `json:"genuine"`
	FalseFlagged   []string        `json:"false_positives,omitempty"` // genuine accounts flagged, sorted
	MissedAccounts []string        `json:"missed_accounts,omitempty"` // scalper accounts not flagged, sorted
}

// TacticRecall is the share of a tactic's accounts that were flagged (1
// when the trace has none).
func (ev Evaluation) TacticRecall(tactic string) float64 {
	k := ev.Tactics[tactic]
	if k.Accounts == 0 {
		return 1
	}
	return float64(k.Flagged) / float64(k.Accounts)
}

// Evaluate compares flags with labels. Precision is 1 when nothing is
// flagged, recall is 1 when there are no scalpers.
func Evaluate(flags []detect.Flag, l Labels) Evaluation {
	flagged := map[string]bool{}
	ev := Evaluation{Flags: len(flags), Scalpers: len(l.Scalpers), Tactics: map[string]Kind{}, Genuine: map[string]Kind{}}
	for _, f := range flags {
		for _, a := range f.AccountIDs {
			flagged[a] = true
		}
		ev.LargestFlag = max(ev.LargestFlag, len(f.AccountIDs))
	}
	ev.Flagged = len(flagged)
	families := map[string]bool{}
	for _, a := range l.Families {
		families[a] = true
		kind := l.FamilyKinds[a]
		if kind == "" {
			kind = Ordinary
		}
		k := ev.Genuine[kind]
		k.Accounts++
		if flagged[a] {
			k.Flagged++
			ev.FamiliesFlagged++
		}
		ev.Genuine[kind] = k
	}
	for a := range flagged {
		if l.Scalpers[a] != "" {
			ev.TruePositives++
			continue
		}
		ev.FalseFlagged = append(ev.FalseFlagged, a)
		if !families[a] {
			k := ev.Genuine["staff or unlabelled"]
			k.Flagged++
			ev.Genuine["staff or unlabelled"] = k
		}
	}
	for a, tactic := range l.Scalpers {
		k := ev.Tactics[tactic]
		k.Accounts++
		if flagged[a] {
			k.Flagged++
		} else {
			ev.MissedAccounts = append(ev.MissedAccounts, a)
		}
		ev.Tactics[tactic] = k
	}
	slices.Sort(ev.FalseFlagged)
	slices.Sort(ev.MissedAccounts)
	ev.rates()
	return ev
}

// Sum adds evaluations up, as if their traces were one: the totals of a
// run over several seeds. LargestFlag is the largest of any.
func Sum(evs []Evaluation) Evaluation {
	s := Evaluation{Tactics: map[string]Kind{}, Genuine: map[string]Kind{}}
	for _, ev := range evs {
		s.Flags += ev.Flags
		s.Flagged += ev.Flagged
		s.Scalpers += ev.Scalpers
		s.TruePositives += ev.TruePositives
		s.FamiliesFlagged += ev.FamiliesFlagged
		s.LargestFlag = max(s.LargestFlag, ev.LargestFlag)
		for k, v := range ev.Tactics {
			t := s.Tactics[k]
			t.Accounts += v.Accounts
			t.Flagged += v.Flagged
			s.Tactics[k] = t
		}
		for k, v := range ev.Genuine {
			g := s.Genuine[k]
			g.Accounts += v.Accounts
			g.Flagged += v.Flagged
			s.Genuine[k] = g
		}
	}
	s.rates()
	return s
}

// rates works out precision and recall from the counts; each is 1 when
// there is nothing to divide by.
func (ev *Evaluation) rates() {
	ev.Precision, ev.Recall = 1, 1
	if ev.Flagged > 0 {
		ev.Precision = float64(ev.TruePositives) / float64(ev.Flagged)
	}
	if ev.Scalpers > 0 {
		ev.Recall = float64(ev.TruePositives) / float64(ev.Scalpers)
	}
}
