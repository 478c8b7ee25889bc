package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// Labels say which accounts of a trace are scalpers. It is the labels file of
// the synthetic generator (loadtest/gen), and any other labelled trace can be
// written in it.
type Labels struct {
	Seed uint64 `json:"seed,omitempty"`
	// Scalpers maps each scalper account (and each insider's staff id) to
	// its kind: bot, farm, handoff, hoarder, insider.
	Scalpers map[string]string `json:"scalpers"`
	// Families are the genuine family accounts; every account of the trace
	// that is not a scalper counts as genuine, named here or not.
	Families []string `json:"families"`
	// GenuineStaff are the clerks and operators that did nothing wrong.
	GenuineStaff []string `json:"genuine_staff,omitempty"`
	// Kinds of genuine families that look a little like scalpers, for the
	// report: family account → "release" (books at release), "household"
	// (shares a device with another account), "careless" (many no-shows),
	// "trip" (cancels everything at once), "chronic" (visits often).
	FamilyKinds map[string]string `json:"family_kinds,omitempty"`
}

// ReadLabels reads a labels file.
func ReadLabels(r io.Reader) (Labels, error) {
	var l Labels
	if err := json.NewDecoder(r).Decode(&l); err != nil {
		return l, fmt.Errorf("read labels: %w", err)
	}
	return l, nil
}

// Evaluation measures flags against labels, by account: an account is
// flagged when any flag names it.
type Evaluation struct {
	Flags           int            `json:"flags"`
	Flagged         int            `json:"flagged_accounts"`
	Scalpers        int            `json:"scalper_accounts"`
	TruePositives   int            `json:"true_positives"`
	Precision       float64        `json:"precision"`
	Recall          float64        `json:"recall"`
	FamiliesFlagged int            `json:"families_flagged"`
	Missed          map[string]int `json:"missed_by_kind,omitempty"`   // scalper kind → accounts not flagged
	FalseFlagged    []string       `json:"false_positives,omitempty"`  // genuine accounts flagged, sorted
	MissedAccounts  []string       `json:"missed_accounts,omitempty"`  // scalper accounts not flagged, sorted
	FlaggedFamilies map[string]int `json:"families_by_kind,omitempty"` // family kind → flagged families
}

// Evaluate compares flags with labels. Precision is 1 when nothing is
// flagged, recall is 1 when there are no scalpers.
func Evaluate(flags []Flag, l Labels) Evaluation {
	flagged := map[string]bool{}
	for _, f := range flags {
		for _, a := range f.AccountIDs {
			flagged[a] = true
		}
	}
	families := map[string]bool{}
	for _, a := range l.Families {
		families[a] = true
	}
	ev := Evaluation{Flags: len(flags), Flagged: len(flagged), Scalpers: len(l.Scalpers), Missed: map[string]int{},
		FlaggedFamilies: map[string]int{}}
	for a := range flagged {
		switch {
		case l.Scalpers[a] != "":
			ev.TruePositives++
		default:
			ev.FalseFlagged = append(ev.FalseFlagged, a)
			if families[a] {
				ev.FamiliesFlagged++
				kind := l.FamilyKinds[a]
				if kind == "" {
					kind = "ordinary"
				}
				ev.FlaggedFamilies[kind]++
			}
		}
	}
	for a, kind := range l.Scalpers {
		if !flagged[a] {
			ev.Missed[kind]++
			ev.MissedAccounts = append(ev.MissedAccounts, a)
		}
	}
	slices.Sort(ev.FalseFlagged)
	slices.Sort(ev.MissedAccounts)
	ev.Precision, ev.Recall = 1, 1
	if ev.Flagged > 0 {
		ev.Precision = float64(ev.TruePositives) / float64(ev.Flagged)
	}
	if ev.Scalpers > 0 {
		ev.Recall = float64(ev.TruePositives) / float64(ev.Scalpers)
	}
	return ev
}
