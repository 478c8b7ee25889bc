package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestStaffJournalReconcilesARestore (review21b M1): a restore to a point
// before a staff member was disabled brings their login back, and the
// audit rows that said so are gone. With --staff-journal the staff
// commands append their changes to a file outside the database, without
// the phone in clear; `staff check` lists what the database no longer
// shows (here a restore is the disable undone in SQL, as a restore leaves
// it), with the command to make it again, and the password reset undone;
// it agrees once they are made again.
func TestStaffJournalReconcilesARestore(t *testing.T) {
	s := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	file := filepath.Join(t.TempDir(), "staff.journal")
	env := map[string]string{"FAIRSLOT_STAFF_JOURNAL": file, "FAIRSLOT_STAFF_PASSWORD": "clerk-Pass-0001"}
	s.runWith(env, "staff", "add", "--role", "clerk", "--hospital", s.hospital, "--phone", "13822220101")
	s.runWith(env, "staff", "password", "--phone", "13822220101")
	s.runWith(env, "staff", "disable", "--phone", "13822220101")

	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the staff journal: %v", err)
	}
	journal := string(b)
	for _, want := range []string{`"action":"staff_added"`, `"action":"staff_password_reset"`, `"action":"staff_disabled"`, `"phone_masked":"138****0101"`} {
		if !strings.Contains(journal, want) {
			t.Errorf("the journal lacks %s:\n%s", want, journal)
		}
	}
	if strings.Contains(journal, "13822220101") || strings.Contains(journal, "clerk-Pass-0001") {
		t.Errorf("the journal holds the phone or the password in clear:\n%s", journal)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the journal's mode: %v %v, want 0600", st.Mode(), err)
	}

	check := func() (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"staff", "check", "--journal", file}, s.getenv, &out, s.logs)
		return out.String(), err
	}
	if out, err := check(); err != nil || strings.Contains(out, "disabled at") {
		t.Errorf("before the restore: %v\n%s", err, out)
	}
	if _, err := s.pool.Exec(context.Background(), "UPDATE accounts SET disabled_at = NULL, credentials_changed_at = NULL WHERE phone_masked = '138****0101'"); err != nil {
		t.Fatal(err)
	}
	out, err := check()
	if exitCode(err) != 1 || !strings.Contains(out, "enabled in the database: fairslot staff disable --phone") ||
		!strings.Contains(out, "password reset at") || !strings.Contains(out, "138****0101") {
		t.Errorf("after the restore: %v, want exit 1 naming the disable and the reset to make again:\n%s", err, out)
	}
	s.runWith(env, "staff", "disable", "--phone", "13822220101")
	s.runWith(env, "staff", "password", "--phone", "13822220101")
	if out, err := check(); err != nil {
		t.Errorf("the changes made again are still listed: %v\n%s", err, out)
	}
}

// TestStaffDriftAccountGone: an account the journal added that the
// restored database lacks is listed.
func TestStaffDriftAccountGone(t *testing.T) {
	got := staffDrift([]journalEntry{{TS: time.Now(), Action: "staff_added", Account: "a1", Role: "admin", PhoneMasked: "138****0001"}},
		map[string]booking.StaffAccount{})
	if len(got) != 1 || !strings.Contains(got[0], "not in the database") {
		t.Errorf("staffDrift = %q", got)
	}
}
