package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"fairslot/internal/testenv"
)

// TestEveryAlertHasARunbook (review21b): every alert of
// deploy/prometheus/alerts.yml carries a runbook_url annotation naming a
// section of docs/operations.md ("docs/operations.md#anchor"), and the
// anchor is one of that file's headings, as a Markdown renderer makes them:
// an operator paged at night lands where the alert is handled, not on a
// link that moved.
func TestEveryAlertHasARunbook(t *testing.T) {
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	testenv.Must(t, err, "read alerts.yml")
	doc, err := os.ReadFile("../../docs/operations.md")
	testenv.Must(t, err, "read operations.md")
	anchors := headingAnchors(string(doc))
	alert := regexp.MustCompile(`^\s*- alert: (\S+)`)
	runbook := regexp.MustCompile(`^\s*runbook_url: "?([^"]*)"?\s*$`)
	urls := map[string]string{}
	var order []string
	cur := ""
	for _, l := range strings.Split(string(b), "\n") {
		if m := alert.FindStringSubmatch(l); m != nil {
			cur = m[1]
			order = append(order, cur)
		} else if m := runbook.FindStringSubmatch(l); m != nil && cur != "" {
			urls[cur] = m[1]
		}
	}
	if len(order) < 20 {
		t.Fatalf("found %d alerts in alerts.yml, want the twenty it has", len(order))
	}
	for _, a := range order {
		u, ok := urls[a]
		if !ok {
			t.Errorf("%s has no runbook_url annotation", a)
			continue
		}
		file, anchor, _ := strings.Cut(u, "#")
		if file != "docs/operations.md" || !anchors[anchor] {
			t.Errorf("%s: runbook_url %q is not a heading of docs/operations.md", a, u)
		}
	}
}

// headingAnchors are the anchors of a Markdown file's headings, as GitHub
// makes them: lower case, punctuation dropped (letters of any script,
// digits, '-' and '_' stay), spaces as '-', a repeated one numbered.
// Lines inside code fences are not headings.
func headingAnchors(md string) map[string]bool {
	out := map[string]bool{}
	fenced := false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var s strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), r == '-', r == '_':
				s.WriteRune(r)
			case r == ' ':
				s.WriteRune('-')
			}
		}
		a := s.String()
		for n := 1; out[a]; n++ {
			a = s.String() + "-" + strconv.Itoa(n)
		}
		out[a] = true
	}
	return out
}
