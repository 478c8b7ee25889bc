package main

// `fairslot staff add`: a staff account bound to its hospital.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"fairslot/internal/booking"
)

func staffAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var role, phone, password, hospital, name string
	var r booking.Role
	return tool{
		name: "staff add",
		flags: func(fs *flag.FlagSet, e env) {
			fs.StringVar(&role, "role", "", "clerk, operator, referrer (a community doctor or carer: books referral slots) or admin")
			fs.StringVar(&phone, "phone", "", "the staff member's mobile number (their login)")
			fs.StringVar(&password, "password", e.Str("STAFF_PASSWORD", ""), "their password (8 to 72 characters)")
			fs.StringVar(&name, "name", "", "their work name, shown to their administrators in the audit log (optional, up to 40 characters)")
			fs.StringVar(&hospital, "hospital", "", "id of the hospital they work for (required for clerks and operators; an admin without one is platform-wide)")
		},
		check: func() (err error) {
			if r, err = booking.ParseRole(role); err != nil || r == booking.RolePatient {
				return errors.New("--role must be clerk, operator, referrer or admin")
			}
			if password == "" {
				return errors.New("a password is required: set FAIRSLOT_STAFF_PASSWORD (or --password)")
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
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// staffPassword is `fairslot staff password`: a staff account's new
// password (forgotten, or a random one nobody keeps to lock out someone who
// left), every login of the account ended.
func staffPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var phone, password string
	return tool{
		name: "staff password",
		flags: func(fs *flag.FlagSet, e env) {
			fs.StringVar(&phone, "phone", "", "the staff member's mobile number (their login)")
			fs.StringVar(&password, "password", e.Str("STAFF_PASSWORD", ""), "the new password (8 to 72 characters); prefer FAIRSLOT_STAFF_PASSWORD: a command line shows in process listings and the shell's history")
		},
		check: func() error {
			if phone == "" {
				return errors.New("--phone is required: the staff member's login")
			}
			if password == "" {
				return errors.New("a new password is required: set FAIRSLOT_STAFF_PASSWORD (or --password)")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			r, err := d.svc.ResetStaffPassword(ctx, phone, password)
			if r.AccountID != "" {
				scope := "platform-wide"
				if r.HospitalID != "" {
					scope = "of hospital " + r.HospitalID
				}
				fmt.Fprintf(stdout, "set the password of %s account %s, %s; every login of it is ended (on every instance within --revocation-poll)\n", r.Role, r.AccountID, scope)
			}
			return err
		},
	}.run(ctx, args, getenv, stderr)
}
