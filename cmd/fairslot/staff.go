package main

// `fairslot staff`: staff accounts added, listed, reset, disabled and
// enabled from the host.

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"fairslot/internal/booking"
)

// passwordFromEnv is a staff member's password, read from
// FAIRSLOT_STAFF_PASSWORD only: a --password on the command line is refused
// as --secret-key is, for it shows in the process list and the shell's
// history (review21b M2; the refusal never repeats it).
func passwordFromEnv(fs *flag.FlagSet, e env) string {
	fs.Func("password", "refused: the password is read from FAIRSLOT_STAFF_PASSWORD, never the command line", func(string) error {
		return errStaffPasswordFlag
	})
	return e.Get("STAFF_PASSWORD")
}

// errStaffPasswordFlag is the answer to a --password on the command line.
var errStaffPasswordFlag = errors.New("a password on the command line shows in process listings and the shell's history: " +
	"set FAIRSLOT_STAFF_PASSWORD instead (read -rs FAIRSLOT_STAFF_PASSWORD; export FAIRSLOT_STAFF_PASSWORD)")

func staffAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var role, phone, password, hospital, name string
	var r booking.Role
	var journalTo *string
	return tool{
		name: "staff add",
		flags: func(fs *flag.FlagSet, e env) {
			journalTo = staffJournal(fs, e)
			fs.StringVar(&role, "role", "", "clerk, operator, referrer (a community doctor or carer: books referral slots) or admin")
			fs.StringVar(&phone, "phone", "", "the staff member's mobile number (their login)")
			password = passwordFromEnv(fs, e)
			fs.StringVar(&name, "name", "", "their work name, shown to their administrators in the audit log (optional, up to 40 characters)")
			fs.StringVar(&hospital, "hospital", "", "id of the hospital they work for (required for clerks and operators; an admin without one is platform-wide)")
		},
		check: func() (err error) {
			if r, err = booking.ParseRole(role); err != nil || r == booking.RolePatient {
				return errors.New("--role must be clerk, operator, referrer or admin")
			}
			if password == "" {
				return errors.New("a password is required: set FAIRSLOT_STAFF_PASSWORD (8 to 72 characters)")
			}
			if hospital == "" && r != booking.RoleAdmin {
				return fmt.Errorf("--hospital is required: a %s works for one hospital (GET /v1/hospitals lists them)", r)
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			if _, err := d.svc.Refresh(ctx); err != nil {
				return err
			}
			id, err := d.svc.CreateStaff(ctx, booking.StaffRequest{Phone: phone, Password: password, Role: r, HospitalID: hospital, Name: name})
			if err != nil {
				return err
			}
			scope := "platform-wide"
			if hospital != "" {
				scope = "of hospital " + hospital
			}
			fmt.Fprintf(stdout, "created %s account %s, %s\n", r, id, scope)
			return journal(*journalTo, "staff_added", booking.StaffChange{AccountID: id, HospitalID: hospital, Role: r}, phone)
		},
	}.run(ctx, args, getenv, stderr)
}

// staffPassword is `fairslot staff password`: a staff account's new
// password (a forgotten one), every login of the account ended and the
// phone's failed logins forgotten.
func staffPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var phone, password string
	var journalTo *string
	return tool{
		name: "staff password",
		flags: func(fs *flag.FlagSet, e env) {
			journalTo = staffJournal(fs, e)
			fs.StringVar(&phone, "phone", "", "the staff member's mobile number (their login)")
			password = passwordFromEnv(fs, e)
		},
		check: func() error {
			if phone == "" {
				return errors.New("--phone is required: the staff member's login")
			}
			if password == "" {
				return errors.New("a new password is required: set FAIRSLOT_STAFF_PASSWORD (8 to 72 characters)")
			}
			return nil
		},
		forgetsLogins: true,
		work: func(ctx context.Context, d *deps) error {
			r, err := d.svc.ResetStaffPassword(ctx, phone, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "set the password of %s; every login of it is ended (on every instance within --revocation-poll) and its failed logins forgotten\n", r)
			return journal(*journalTo, "staff_password_reset", r, phone)
		},
	}.run(ctx, args, getenv, stderr)
}

// staffDisable and staffEnable are `fairslot staff disable` and `enable`:
// a member of staff who left is locked out (every token ended, logins
// refused), and let back in.
func staffDisable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return staffSwitch(ctx, "disable", args, getenv, stdout, stderr)
}

func staffEnable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return staffSwitch(ctx, "enable", args, getenv, stdout, stderr)
}

func staffSwitch(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var phone string
	var journalTo *string
	return tool{
		name: "staff " + verb,
		flags: func(fs *flag.FlagSet, e env) {
			journalTo = staffJournal(fs, e)
			fs.StringVar(&phone, "phone", "", "the staff member's mobile number (their login; `fairslot staff list` shows it masked)")
		},
		check: func() error {
			if phone == "" {
				return errors.New("--phone is required: the staff member's login")
			}
			return nil
		},
		forgetsLogins: verb == "enable",
		work: func(ctx context.Context, d *deps) error {
			if verb == "disable" {
				r, err := d.svc.DisableStaff(ctx, phone)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "disabled %s: every login of it is ended (on every instance within --revocation-poll) and its logins refused until `fairslot staff enable`\n", r)
				return journal(*journalTo, "staff_disabled", r, phone)
			}
			r, err := d.svc.EnableStaff(ctx, phone)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "enabled %s: it logs in with its password again\n", r)
			return journal(*journalTo, "staff_enabled", r, phone)
		},
	}.run(ctx, args, getenv, stderr)
}

// staffList is `fairslot staff list`: who holds a staff login, with the
// phone masked as in the logs (--phone selects one by its full number).
func staffList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var hospital, phone string
	return tool{
		name: "staff list",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.StringVar(&hospital, "hospital", "", "only this hospital's staff (default: every hospital's, and the platform-wide administrators)")
			fs.StringVar(&phone, "phone", "", "only the account of this mobile number")
		},
		work: func(ctx context.Context, d *deps) error {
			accounts, err := d.svc.StaffAccounts(ctx, hospital, phone)
			if err != nil {
				return err
			}
			// Times in the account's hospital's zone with its offset, as the
			// audit API shows them (StaffAccount.Location).
			when := func(t time.Time, loc *time.Location, none string) string {
				if t.IsZero() {
					return none
				}
				return t.In(loc).Format("2006-01-02T15:04-07:00")
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ROLE\tNAME\tPHONE\tHOSPITAL\tACCOUNT\tCREATED\tLAST LOGIN\tDISABLED")
			for _, a := range accounts {
				loc := a.Location()
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Role, cmp.Or(a.Name, "-"), a.PhoneMasked, cmp.Or(a.HospitalID, "platform-wide"),
					a.ID, when(a.CreatedAt, loc, "-"), when(a.LastLogin, loc, "-"), when(a.DisabledAt, loc, "no"))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(accounts) == 0 {
				return errors.New("no staff account matches")
			}
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}
