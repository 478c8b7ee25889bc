package main

// The staff journal: every `fairslot staff add|password|disable|enable`
// appends a line to a file outside the database, so that a restore to an
// earlier point, which brings back what was disabled or reset since the
// backup and loses the audit rows that said so, can be reconciled
// (`fairslot staff check`; review21b M1).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// journalEntry is one line of the staff journal: no clear phone, no
// password; the masked phone is the one `staff list` shows.
type journalEntry struct {
	TS          time.Time `json:"ts"`
	Action      string    `json:"action"` // staff_added, staff_password_reset, staff_disabled, staff_enabled
	Account     string    `json:"account"`
	Role        string    `json:"role"`
	Hospital    string    `json:"hospital,omitempty"`
	PhoneMasked string    `json:"phone_masked"`
}

// staffJournal registers --staff-journal and returns where the command's
// change is appended ("" for none).
func staffJournal(fs *flag.FlagSet, e env) *string {
	return fs.String("staff-journal", e.Str("STAFF_JOURNAL", ""), "file every staff change is appended to, outside the database, so a restore can be reconciled with `fairslot staff check` (docs/operations.md, \"Backups and restore\"; default: none)")
}

// journal appends the change to path (none when empty). The change is
// made already: a failure here says so, for the operator to note it by
// hand.
func journal(path, action string, c booking.StaffChange, phone string) error {
	if path == "" {
		return nil
	}
	masked := ""
	if p, err := identity.NormalizePhone(phone); err == nil {
		masked = identity.MaskPhone(p)
	}
	line, err := json.Marshal(journalEntry{TS: time.Now().UTC(), Action: action, Account: c.AccountID, Role: string(c.Role), Hospital: c.HospitalID, PhoneMasked: masked})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s is done in the database, but the staff journal %s was not written (note it by hand): %w", action, path, err)
	}
	return nil
}

// staffCheck is `fairslot staff check --journal FILE`: the journal's
// changes that the database does not show, each with the command that
// makes it again; exit 1 when there is any.
func staffCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var path string
	return tool{
		name: "staff check",
		flags: func(fs *flag.FlagSet, e env) {
			fs.StringVar(&path, "journal", e.Str("STAFF_JOURNAL", ""), "the staff journal (--staff-journal of the staff commands)")
		},
		check: func() error {
			if path == "" {
				return errors.New("--journal is required: the staff journal file")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			var entries []journalEntry
			sc := bufio.NewScanner(f)
			for n := 1; sc.Scan(); n++ {
				var e journalEntry
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Account == "" {
					return fmt.Errorf("%s line %d is not a staff journal entry", path, n)
				}
				entries = append(entries, e)
			}
			if err := sc.Err(); err != nil {
				return err
			}
			accounts, err := d.svc.StaffAccounts(ctx, "", "")
			if err != nil {
				return err
			}
			byID := map[string]booking.StaffAccount{}
			for _, a := range accounts {
				byID[a.ID] = a
			}
			lines := staffDrift(entries, byID)
			for _, l := range lines {
				fmt.Fprintln(stdout, l)
			}
			if len(lines) > 0 {
				return &exitError{1, fmt.Errorf("%d staff changes of the journal are not in the database: make them again (the lines above)", len(lines))}
			}
			fmt.Fprintf(stdout, "the database shows every staff change of the journal (%d entries)\n", len(entries))
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// staffDrift compares the journal with the accounts: an account added
// that is gone, the last disable or enable the database does not show, and
// the last password reset older than the password the database holds (the
// journal's line is written just after the database's change: a minute's
// slack for the hosts' clocks).
func staffDrift(entries []journalEntry, byID map[string]booking.StaffAccount) []string {
	var out []string
	last := map[string]journalEntry{} // the last disable or enable of each account
	var order []string
	seen := map[string]bool{}
	for _, e := range entries {
		if !seen[e.Account] {
			seen[e.Account] = true
			order = append(order, e.Account)
		}
		if e.Action == "staff_disabled" || e.Action == "staff_enabled" {
			last[e.Account] = e
		}
	}
	for _, id := range order {
		a, ok := byID[id]
		var any journalEntry
		for _, e := range entries {
			if e.Account == id {
				any = e
				break
			}
		}
		who := fmt.Sprintf("%s %s (%s)", any.Role, id, any.PhoneMasked)
		if !ok {
			out = append(out, fmt.Sprintf("%s: in the journal, not in the database (added after the backup): fairslot staff add --role %s --phone … again, if they still work here", who, any.Role))
			continue
		}
		if e, ok := last[id]; ok {
			switch {
			case e.Action == "staff_disabled" && a.DisabledAt.IsZero():
				out = append(out, fmt.Sprintf("%s: disabled at %s, enabled in the database: fairslot staff disable --phone …", who, e.TS.Format(time.RFC3339)))
			case e.Action == "staff_enabled" && !a.DisabledAt.IsZero():
				out = append(out, fmt.Sprintf("%s: enabled at %s, disabled in the database: fairslot staff enable --phone …", who, e.TS.Format(time.RFC3339)))
			}
		}
		var reset journalEntry
		for _, e := range entries {
			if e.Account == id && e.Action == "staff_password_reset" {
				reset = e
			}
		}
		if !reset.TS.IsZero() && a.PasswordSetAt.Before(reset.TS.Add(-time.Minute)) {
			out = append(out, fmt.Sprintf("%s: password reset at %s, an older password in the database: fairslot staff password --phone … again", who, reset.TS.Format(time.RFC3339)))
		}
	}
	return out
}
