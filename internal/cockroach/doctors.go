package cockroach

import (
	"context"
	_ "embed"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

//go:embed doctors.sql
var doctorsSQL string

var doctorQueries = ParseQueries(doctorsSQL)

// AddHospital creates a hospital with its audit entry, in one transaction
// that raises the catalog's version.
func (s *Store) AddHospital(ctx context.Context, h booking.Hospital, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "add_hospital", func(tx pgx.Tx) error {
		// The catalog's version row first: it serializes every change of
		// the catalog, so a second `hospital add` of the same name on
		// another host waits for this one and then finds its row below.
		// The check reads the hospitals themselves, not the caller's
		// catalog, which may not hold a hospital added since it loaded;
		// no index refuses a second name.
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		var other string
		err := tx.QueryRow(ctx, doctorQueries["hospital_named"], h.Name).Scan(&other)
		if err == nil {
			return booking.Errorf(booking.ErrHospitalExists, "hospital %s is named %q already: nothing was written", other, h.Name)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, queries["insert_hospital"], h.ID, h.Name, h.TimeZone, h.Policy.PerDay, h.Policy.PerWeek, h.Policy.PerMonth, h.CancelDeadline); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// SaveDepartment creates or renames a department with its audit entry, in
// one transaction that raises the catalog's version.
func (s *Store) SaveDepartment(ctx context.Context, d booking.Department, create bool, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "save_department", func(tx pgx.Tx) error {
		if create {
			if _, err := tx.Exec(ctx, doctorQueries["create_department"], d.ID, d.HospitalID, d.Name); err != nil {
				return err
			}
		} else {
			var got string
			err := tx.QueryRow(ctx, doctorQueries["rename_department"], d.ID, d.Name).Scan(&got)
			if errors.Is(err, pgx.ErrNoRows) {
				return booking.ErrDepartmentNotFound
			} else if err != nil {
				return err
			}
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if _, ok := uniqueViolation(err); ok {
		return booking.ErrDepartmentExists // (hospital, name)
	}
	return err
}

// RetireDepartment retires a department no doctor on the schedule works in.
func (s *Store) RetireDepartment(ctx context.Context, id string, at time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "retire_department", func(tx pgx.Tx) error {
		if _, err := rowState(ctx, tx, doctorQueries["department_state"], id, booking.ErrDepartmentNotFound); err != nil {
			return err
		}
		var name string
		err := tx.QueryRow(ctx, doctorQueries["department_staffed"], id).Scan(&name)
		if err == nil {
			return booking.Errorf(booking.ErrDepartmentInUse, "%s still works in this department: move or retire them first", name)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, doctorQueries["retire_department"], id, at); err != nil {
			return err
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// SaveDoctor creates or edits a doctor in a department that is not
// retired, with its audit entry, raising the catalog's version.
func (s *Store) SaveDoctor(ctx context.Context, d booking.Doctor, create bool, a booking.AuditEntry, notices []booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "save_doctor", func(tx pgx.Tx) error {
		retired, err := rowState(ctx, tx, doctorQueries["department_state"], d.DepartmentID, booking.ErrDepartmentNotFound)
		if err != nil {
			return err
		}
		if retired {
			return booking.ErrDepartmentRetired
		}
		if create {
			if _, err := tx.Exec(ctx, doctorQueries["create_doctor"], d.ID, d.HospitalID, d.DepartmentID, d.Name, d.Title,
				string(d.FeeLevel.OrGeneral())); err != nil {
				return err
			}
		} else {
			var got string
			err := tx.QueryRow(ctx, doctorQueries["update_doctor"], d.ID, d.DepartmentID, d.Name, d.Title,
				string(d.FeeLevel.OrGeneral()), d.HospitalID).Scan(&got)
			if errors.Is(err, pgx.ErrNoRows) {
				return booking.ErrDoctorRetired // or gone: the catalog had it, and doctors are never deleted
			} else if err != nil {
				return err
			}
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		if len(notices) > 0 {
			sessions, bodies := make([]string, len(notices)), make([]string, len(notices))
			for i, n := range notices {
				sessions[i], bodies[i] = n.SessionID, n.Body
			}
			if _, err := tx.Exec(ctx, doctorQueries["tell_bookings"], sessions, bodies, notices[0].Kind, a.TS); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

// RetireDoctor retires a doctor who has no upcoming session that is not
// stopped. The doctor's row is locked, and CreateSessions locks it too
// (doctorActive): a session published for the doctor at the same moment
// either commits first (and the retirement is refused) or finds the doctor
// retired.
func (s *Store) RetireDoctor(ctx context.Context, id string, at time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "retire_doctor", func(tx pgx.Tx) error {
		if _, err := rowState(ctx, tx, doctorQueries["doctor_state"], id, booking.ErrDoctorNotFound); err != nil {
			return err
		}
		var date, period string
		err := tx.QueryRow(ctx, doctorQueries["doctor_upcoming"], id, at).Scan(&date, &period)
		if err == nil {
			return booking.Errorf(booking.ErrDoctorHasSessions, "the doctor has a session on %s %s: delete or stop it first", date, period)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, doctorQueries["retire_doctor"], id, at); err != nil {
			return err
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// doctorActive locks a doctor's row for a session being published and
// refuses a retired doctor.
func doctorActive(ctx context.Context, tx pgx.Tx, id string) error {
	retired, err := rowState(ctx, tx, doctorQueries["doctor_state"], id, booking.ErrDoctorNotFound)
	if err == nil && retired {
		return booking.ErrDoctorRetired
	}
	return err
}

// rowState runs a query of one boolean about a locked row (retired or
// not); missing when there is no such row.
func rowState(ctx context.Context, tx pgx.Tx, query, id string, missing error) (bool, error) {
	var retired bool
	err := tx.QueryRow(ctx, query, id).Scan(&retired)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, missing
	}
	return retired, err
}
