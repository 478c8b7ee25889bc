package web

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestEveryAuditActionHasALabel reads the actions the service writes to
// the audit log (internal/booking and internal/cockroach, the vocabulary
// review19b L1 lists) and checks the audit page labels each in Chinese
// and English: a new action without a label shows as its raw code.
func TestEveryAuditActionHasALabel(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`Action:\s*"([a-z_]+)"`),
		regexp.MustCompile(`[aA]ction(?:,\s*\w+)?\s*:?=\s*(?:\w+,\s*)?"([a-z_]+)"`),
		regexp.MustCompile(`audit\.Action(?:,\s*audit\.Reason)?\s*=\s*"([a-z_]+)"`),
		regexp.MustCompile(`catalogAudit\(actor,\s*"([a-z_]+)"`),
		regexp.MustCompile(`staffAudit\(a,\s*"([a-z_]+)"`),
		regexp.MustCompile(`auditByPersonAction\s*=\s*"([a-z_]+)"`),
	}
	found := map[string]string{}
	for _, dir := range []string{"../booking", "../cockroach"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("read %s: %v (%d files)", dir, err, len(files))
		}
		for _, f := range files {
			if regexp.MustCompile(`_test\.go$`).MatchString(f) {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			for _, p := range patterns {
				for _, m := range p.FindAllStringSubmatch(string(src), -1) {
					if regexp.MustCompile(`_$`).MatchString(m[1]) {
						continue // a prefix ("flag_" + the decision): its actions are listed below
					}
					found[m[1]] = f
				}
			}
		}
	}
	// The vocabulary must be found at all (the patterns still match the
	// code): the schedule's own actions among it.
	for _, want := range []string{"session_create", "session_update", "session_delete", "session_stop", "move_pool",
		"doctor_update", "department_create", "template_create", "policy_set", "substitute_accepted", "staff_disabled", "phone_booking"} {
		if _, ok := found[want]; !ok {
			t.Errorf("the action %s was not found in the service's code: the patterns no longer match it", want)
		}
	}
	found["flag_confirm"], found["flag_dismiss"] = "flags.go", "flags.go"
	var missing []string
	for action, file := range found {
		l, ok := auditActionLabels[action]
		if !ok || !regexp.MustCompile(`\p{Han}`).MatchString(l) || !regexp.MustCompile(`[A-Za-z]`).MatchString(l) {
			missing = append(missing, action+" ("+filepath.Base(file)+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d audit actions the service writes have no Chinese and English label: %v", len(missing), missing)
	}
}
