package httpapi

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// writtenAuditActions are the audit actions the code writes, read from its
// source (every non-test Go file under internal/ and cmd/): a literal in an
// audit entry's Action field (`Action: "x"`, `audit.Action = "x"`), one
// assigned to a variable or constant named action or …Action, and one
// passed as the action of a helper whose parameter is named so
// (catalogAudit, staffAudit). A prefix (`Action: "flag_" + d.Action`) is
// completed by the flag decisions ("confirm", "dismiss": flags.go's map).
func writtenAuditActions(t *testing.T) map[string]string {
	t.Helper()
	lit := regexp.MustCompile(`"([a-z][a-z0-9_]*)"`)
	field := regexp.MustCompile(`\bAction:\s*"([a-z][a-z0-9_]*)"(\s*\+)?`)
	assign := regexp.MustCompile(`(?m)^\s*([\w.]+(?:,\s*[\w.]+)*)\s*:?=\s*(.*)$`)
	helperSig := regexp.MustCompile(`func (?:\([^)]*\) )?(\w+)\(\w+ \w+, action\b`)
	found := map[string]string{}
	var srcs = map[string]string{}
	for _, root := range []string{"..", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			srcs[path] = string(b)
			return err
		})
		if err != nil {
			t.Fatalf("read the sources under %s: %v", root, err)
		}
	}
	var helpers []string
	for _, src := range srcs {
		for _, m := range helperSig.FindAllStringSubmatch(src, -1) {
			helpers = append(helpers, m[1])
		}
	}
	if len(helpers) == 0 {
		t.Fatal("found no audit helper with an action parameter (catalogAudit, staffAudit)")
	}
	helperCall := regexp.MustCompile(`\b(?:` + strings.Join(helpers, "|") + `)\([^,()]+,\s*"([a-z][a-z0-9_]*)"`)
	for path, src := range srcs {
		for _, m := range field.FindAllStringSubmatch(src, -1) {
			if m[2] == "" {
				found[m[1]] = path
				continue
			}
			for _, d := range []string{"confirm", "dismiss"} {
				found[m[1]+d] = path
			}
		}
		for _, m := range helperCall.FindAllStringSubmatch(src, -1) {
			found[m[1]] = path
		}
		for _, m := range assign.FindAllStringSubmatch(src, -1) {
			named := false
			for _, lhs := range strings.Split(m[1], ",") {
				lhs = strings.TrimSpace(lhs)
				if lhs == "action" || strings.HasSuffix(lhs, ".Action") || (strings.HasSuffix(lhs, "Action") && lhs != "Action") {
					named = true
				}
			}
			if !named {
				continue
			}
			// The literal assigned, not one inside a call (`action :=
			// r.FormValue("action")` reads a form).
			rhs, _, _ := strings.Cut(m[2], "(")
			if l := lit.FindStringSubmatch(rhs); l != nil {
				found[l[1]] = path
			}
		}
	}
	if len(found) < 40 {
		t.Fatalf("found %d audit actions in the code, want them all (some 60)", len(found))
	}
	return found
}

// openAPIAuditActions reads the AuditEntry schema's action enum and the
// actions listAudit's description names in backquotes.
func openAPIAuditActions(t *testing.T) (enum, described []string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/api/openapi.yaml")
	if err != nil {
		t.Fatalf("read the OpenAPI document: %v", err)
	}
	s := string(doc)
	start := strings.Index(s, "\n    AuditEntry:\n")
	if start < 0 {
		t.Fatal("the OpenAPI document has no AuditEntry schema")
	}
	a := s[start:]
	at := strings.Index(a, "\n        action:\n")
	if at < 0 {
		t.Fatal("AuditEntry has no action property")
	}
	a = a[at:]
	open := strings.Index(a, "enum: [")
	if open < 0 {
		t.Fatal("AuditEntry.action has no enum: [...]")
	}
	closing := strings.Index(a[open:], "]")
	for _, v := range strings.Split(a[open+len("enum: ["):open+closing], ",") {
		if v = strings.TrimSpace(v); v != "" {
			enum = append(enum, v)
		}
	}
	op := strings.Index(s, "operationId: listAudit")
	if op < 0 {
		t.Fatal("the OpenAPI document has no listAudit operation")
	}
	desc := s[op:]
	desc = desc[:strings.Index(desc, "parameters:")]
	for _, m := range regexp.MustCompile("`([a-z][a-z0-9_]*)`").FindAllStringSubmatch(desc, -1) {
		described = append(described, m[1])
	}
	return enum, described
}

// TestAuditActionsAreDocumented: the OpenAPI's AuditEntry.action enum and
// listAudit's description name every action the service writes, and the
// enum no other (review19a L4: they listed 15 and 7 of some 60, so an
// integrator's audit reader met lottery_draw, session_create, … unknown).
func TestAuditActionsAreDocumented(t *testing.T) {
	written := writtenAuditActions(t)
	enum, described := openAPIAuditActions(t)
	var names []string
	for a := range written {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		if !slices.Contains(enum, a) {
			t.Errorf("%s writes the audit action %s, which AuditEntry.action's enum does not list", written[a], a)
		}
		if !slices.Contains(described, a) {
			t.Errorf("%s writes the audit action %s, which listAudit's description does not name", written[a], a)
		}
	}
	for _, a := range enum {
		if _, ok := written[a]; !ok {
			t.Errorf("AuditEntry.action's enum lists %s, an action the code does not write", a)
		}
	}
}
