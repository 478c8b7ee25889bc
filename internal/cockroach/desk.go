package cockroach

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// This file holds the SQL of the staff channels and the registration desk:
// identities looked up by the desk, check-in, no-shows and bars, the
// waitlist, extra slots and moving slots between channel pools.

func scanIdentity(row pgx.Row) (booking.Identity, error) {
	var i booking.Identity
	err := row.Scan(&i.ID, &i.IDType, &i.IDHash, &i.NumberMasked, &i.NameHash, &i.NameMasked, &i.NameVerified, &i.VerifiedBy, &i.PersonID)
	if errors.Is(err, pgx.ErrNoRows) {
		return i, booking.ErrNotFound
	}
	return i, err
}

// IdentityOf reads an identity's hashes and masked forms.
func (s *Store) IdentityOf(ctx context.Context, id string) (_ booking.Identity, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return scanIdentity(s.db.pool.QueryRow(ctx, q("identity_full"), id))
}

// IdentityByHash finds an identity by its ID's keyed hash.
func (s *Store) IdentityByHash(ctx context.Context, idHash []byte) (_ booking.Identity, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return scanIdentity(s.db.pool.QueryRow(ctx, q("identity_full_by_hash"), idHash))
}

// EnsureIdentity returns the identity with i's ID hash, inserting i if there
// is none (ensureIdentity: a verified i sets the verified name, the desk's
// never over another; an unverified one another verified name refuses).
func (s *Store) EnsureIdentity(ctx context.Context, i booking.Identity) (_ booking.Identity, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var out booking.Identity
	err := s.db.Tx(ctx, "ensure_identity", func(tx pgx.Tx) error {
		id, err := ensureIdentity(ctx, tx, i, time.Now(), false)
		if err != nil {
			return err
		}
		out, err = scanIdentity(tx.QueryRow(ctx, q("identity_full"), id))
		return err
	})
	return out, concurrentInsert(err)
}

// concurrentInsert turns the unique violation of two first inserts of one
// person into ErrUnavailable: a retry finds the identity the other made.
func concurrentInsert(err error) error {
	if name, ok := uniqueViolation(err); ok && name == "identities_id_hash_key" {
		return booking.ErrUnavailable
	}
	return err
}

// VerifyName makes i's name the verified name of the person with i's ID
// hash, inserting i (with i.ID) if nobody has it yet; drops another
// account's self claim of the person under another name
// (dropDisprovedSelves); and with bind.AccountID makes that account's
// patient of the identity its bound self (dropping the self of any other
// account), adding the row bind.NewPatientID when the account does not
// list the person: with the audit entry, all in one transaction, so a
// refusal changes nothing; every other hospital where the person holds a
// confirmed booking, a lottery entry or a waiting waitlist place gets a
// copy of the entry (insert_audit_of_person). Another verified name is
// replaced only with replace (ErrVerifiedNameDiffers otherwise). An
// account at its patient limit is ErrTooManyPatients; a person that another
// transaction inserted meanwhile under another id, ErrUnavailable.
func (s *Store) VerifyName(ctx context.Context, i booking.Identity, bind booking.SelfBinding, change booking.NameChange, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	selfAccountID, replace := bind.AccountID, change.Replace
	err := s.db.Tx(ctx, "verify_name", func(tx pgx.Tx) error {
		former := slices.Clone(change.Former)
		if replace {
			// The verified name a correction replaces was the person's.
			var f booking.FormerName
			err := tx.QueryRow(ctx, q("verified_name_of"), i.IDHash).Scan(&f.Hash, &f.Sealed)
			switch {
			case err == nil:
				former = append(former, f)
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		id, err := ensureIdentity(ctx, tx, i, a.TS, replace)
		if err != nil {
			return err
		}
		if id != i.ID {
			return fmt.Errorf("verify name: the person was registered meanwhile: %w", booking.ErrUnavailable)
		}
		if err := keepFormerNames(ctx, tx, i, former, change.Notice, &a); err != nil {
			return err
		}
		if replace {
			// A correction keeps the desk's binding of the person's own
			// account: its self takes the corrected name.
			rows, _ := tx.Query(ctx, q("carry_bound_self"), i.ID, i.NameHash, i.NameSealed, i.NameMasked)
			kept, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, acc := range kept {
				switch {
				case selfAccountID == "":
					a.Reason += "; account " + acc + " stays the person's bound self"
				case acc != selfAccountID:
					a.Reason += "; account " + acc + " is no longer the person's bound self" // drop_self, below
				}
			}
		}
		// Before the binding: the person's self under a disproved name is
		// no self any more, whichever account the desk binds.
		if _, err := dropDisprovedSelves(ctx, tx, i.ID, i.NameHash, a); err != nil {
			return err
		}
		if selfAccountID != "" {
			var listed int
			if err := tx.QueryRow(ctx, q("account_has_identity"), selfAccountID, i.ID).Scan(&listed); err != nil {
				return err
			}
			if listed == 0 {
				if err := mayAddBoundSelf(ctx, tx, bind); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, q("drop_self"), i.ID, selfAccountID); err != nil {
				return err
			}
			if listed == 0 {
				if _, err := tx.Exec(ctx, q("add_bound_self"), bind.NewPatientID, selfAccountID, i.ID, i.NameHash, i.NameSealed,
					i.NameMasked, bind.BirthYear, a.TS); err != nil {
					return err
				}
				a.Reason += "; added to the account, which did not list the person"
			} else {
				// An account has one self: another patient of it that was
				// its self stops being it — never one the desk bound, and
				// one claimed online only audited and told (review24 H1).
				if err := mayReplaceHolder(ctx, tx, i.ID, bind, &a); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, q("drop_other_selves"), selfAccountID, i.ID); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, q("bind_self"), selfAccountID, i.ID, i.NameHash, i.NameSealed, i.NameMasked, a.TS); err != nil {
					return err
				}
			}
			if bind.Consent != nil {
				// The holder's consent, signed at the binding: the
				// account's, as at sign-up.
				c := *bind.Consent
				c.IdentityID = i.ID
				if err := insertConsent(ctx, tx, c); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, q("account_consented"), c.AccountID, c.NoticeVersion); err != nil {
					return err
				}
			}
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		return insertAuditOfPerson(ctx, tx, i.ID, a)
	})
	return concurrentInsert(err)
}

// mayReplaceHolder checks, within the binding's transaction, the
// account's holder (本人) that is another person than identityID's (another
// document of the same person, linked, is the same holder): one the desk
// bound is ErrHolderBound; one claimed online only is replaced, a's reason
// saying so, and the account told (bind.HolderChanged).
func mayReplaceHolder(ctx context.Context, tx pgx.Tx, identityID string, bind booking.SelfBinding, a *booking.AuditEntry) error {
	var other string
	var bound bool
	err := tx.QueryRow(ctx, q("account_other_holder"), bind.AccountID, identityID).Scan(&other, &bound)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	case bound:
		return booking.ErrHolderBound
	}
	a.Reason += "; the account's holder changes: its self " + other + " (claimed online, never bound at the desk) is now 其他 other, and the account is told"
	n := bind.HolderChanged
	if n.ID == "" {
		return nil
	}
	_, err = tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, bind.AccountID, n.Body, n.CreatedAt)
	return err
}

// keepFormerNames records each of names (but the verified one) as a former
// name of the person, and gives what was listed or made under it the
// verified name (booking.NameChange), telling each account whose list
// changed (notice, copied per account) and saying in a's reason how much
// was renamed.
func keepFormerNames(ctx context.Context, tx pgx.Tx, i booking.Identity, names []booking.FormerName, notice booking.Notification, a *booking.AuditEntry) error {
	told := map[string]bool{}
	var lists, made int64
	for _, f := range names {
		if len(f.Hash) == 0 || bytes.Equal(f.Hash, i.NameHash) {
			continue
		}
		if _, err := tx.Exec(ctx, q("insert_former_name"), i.ID, f.Hash, f.Sealed, a.TS); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, q("rename_listed"), i.ID, f.Hash, i.NameHash, i.NameSealed, i.NameMasked)
		accounts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		lists += int64(len(accounts))
		for _, acc := range accounts {
			if told[acc] {
				continue
			}
			told[acc] = true
			if _, err := tx.Exec(ctx, q("insert_person_notification"), nullable(a.HospitalID), notice.Kind, acc, i.ID,
				notice.Body, a.TS); err != nil {
				return err
			}
		}
		for _, stmt := range []string{"rename_bookings_made", "rename_places_made"} {
			tag, err := tx.Exec(ctx, q(stmt), i.ID, f.Hash, i.NameHash)
			if err != nil {
				return err
			}
			made += tag.RowsAffected()
		}
	}
	if lists+made > 0 || len(names) > 0 {
		a.Reason += fmt.Sprintf("; former name kept: %d list entries and %d bookings, entries or places made under it now carry the verified name", lists, made)
	}
	return nil
}

// IsFormerName is booking.Store's.
func (s *Store) IsFormerName(ctx context.Context, identityID string, nameHash []byte) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	err := s.db.pool.QueryRow(ctx, q("is_former_name"), identityID, nameHash).Scan(&n)
	return n > 0, err
}

// FormerNames is booking.Store's.
func (s *Store) FormerNames(ctx context.Context, identityID string) (_ []booking.FormerName, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("former_names_of"), identityID)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.FormerName, error) {
		var f booking.FormerName
		err := row.Scan(&f.Hash, &f.Sealed, &f.RecordedAt)
		return f, err
	})
}

// mayAddBoundSelf says whether the desk may add the person to the account
// it binds, which does not list them: only to an account that names nobody
// as its own (the owner whose own add was refused identity_taken), so a
// mistyped account phone never rebinds a stranger's self; and within its
// patient limit.
func mayAddBoundSelf(ctx context.Context, tx pgx.Tx, bind booking.SelfBinding) error {
	var selves, n int
	if err := tx.QueryRow(ctx, q("account_selves_and_patients"), bind.AccountID).Scan(&selves, &n); err != nil {
		return err
	}
	switch {
	case bind.NewPatientID == "" || selves > 0:
		return booking.Errorf(booking.ErrPatientNotFound, "that account has not added this person, and names another as its own; "+
			"check the phone, or have the holder add the person first")
	case n >= bind.MaxPatients:
		return booking.Errorf(booking.ErrTooManyPatients, "that account already has %d patients, the most an account may have: "+
			"the holder removes one first", bind.MaxPatients)
	}
	return nil
}

// DropDisprovedSelves is booking.Store's: one transaction.
func (s *Store) DropDisprovedSelves(ctx context.Context, identityID string, nameHash []byte, a booking.AuditEntry) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var dropped []string
	err := s.db.Tx(ctx, "drop_disproved_selves", func(tx pgx.Tx) error {
		var err error
		dropped, err = dropDisprovedSelves(ctx, tx, identityID, nameHash, a)
		return err
	})
	return dropped, err
}

// dropDisprovedSelves ends, within tx, every unbound self claim of the
// identity under a name other than nameHash (the desk's verified name):
// each row stays on its account as 其他 other, audited (self_disproved, as
// a's actor at a's time) with a cancelled event (name_disproved) that the
// notify job tells the account of. It returns the rows dropped.
func dropDisprovedSelves(ctx context.Context, tx pgx.Tx, identityID string, nameHash []byte, a booking.AuditEntry) ([]string, error) {
	type row struct{ patientID, accountID string }
	rows, _ := tx.Query(ctx, q("drop_disproved_selves"), identityID, nameHash)
	dropped, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.patientID, &x.accountID)
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(dropped))
	for k, d := range dropped {
		ids[k] = d.patientID
		ev := booking.Event{ID: booking.NewID(), TS: a.TS, Type: booking.EventCancelled, AccountID: d.accountID, PatientID: d.patientID,
			IdentityID: identityID, HospitalID: a.HospitalID, Reason: booking.ReasonNameDisproved, StaffID: a.ActorID}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return nil, err
		}
		audit := booking.AuditEntry{ID: booking.NewID(), TS: a.TS, ActorID: a.ActorID, ActorRole: a.ActorRole, Action: "self_disproved",
			Target: "patient:" + d.patientID, HospitalID: a.HospitalID,
			Reason: "account " + d.accountID + " claimed the person as its own (本人) under another name than the one the desk " +
				"verified from the ID card (" + booking.ReasonNameDisproved + "): the person stays on its list as 其他 other"}
		if err := insertAudit(ctx, tx, audit); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// SealedNames reads the sealed names of an identity and of patient rows'
// claims, by id.
func (s *Store) SealedNames(ctx context.Context, identityID string, patientIDs []string) (_ map[string]booking.SealedName, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("sealed_names"), identityID, patientIDs)
	out := map[string]booking.SealedName{}
	var id string
	var n booking.SealedName
	_, err := pgx.ForEachRow(rows, []any{&id, &n.Hash, &n.Sealed}, func() error {
		out[id] = booking.SealedName{Hash: slices.Clone(n.Hash), Sealed: slices.Clone(n.Sealed)}
		return nil
	})
	return out, err
}

// CorrectBookingName puts the verified name on a booking made under a near
// miss of it, with the audit entry and the notice, in one transaction.
func (s *Store) CorrectBookingName(ctx context.Context, id string, from, to []byte, a booking.AuditEntry, n booking.Notification) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	done := false
	err := s.db.Tx(ctx, "correct_booking_name", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("correct_booking_name"), id, from, to)
		if done = err == nil && tag.RowsAffected() == 1; !done {
			return err
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, q("insert_booking_notification"), n.ID, n.HospitalID, nullable(n.SessionID), n.Kind, n.AccountID,
			nullable(n.IdentityID), n.BookingID, n.Body, n.CreatedAt)
		return err
	})
	return done && err == nil, err
}

// AccountHasIdentity reports whether an identity is on an account's list.
func (s *Store) AccountHasIdentity(ctx context.Context, accountID, identityID string) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	err := s.db.pool.QueryRow(ctx, q("account_has_identity"), accountID, identityID).Scan(&n)
	return n > 0, err
}

// BookingsOfIdentity lists an identity's bookings from a visit date on.
func (s *Store) BookingsOfIdentity(ctx context.Context, identityID, fromDate string) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("bookings_of_identity"), identityID, fromDate)
	return pgx.CollectRows(rows, scanBooking)
}

// BookingsOfCaller lists an identity's bookings from a visit date on that a
// call from the number with phoneHash (events: phoneRef) has a say in.
func (s *Store) BookingsOfCaller(ctx context.Context, identityID, fromDate string, phoneHash []byte, phoneRef string) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("bookings_of_caller"), identityID, fromDate, phoneHash, phoneRef)
	return pgx.CollectRows(rows, scanBooking)
}

// CheckIn moves a confirmed booking to checked in, with its event and
// audit entry (and accepts a held booking's open substitute offer), and makes the card's name the identity's verified name; a
// verified name that is another refuses it all (ErrVerifiedNameDiffers).
func (s *Store) CheckIn(ctx context.Context, id string, at time.Time, ev booking.Event, a booking.AuditEntry, card booking.Identity) (_ booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "check_in", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("check_in"), id, at, card.NameHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrBookingNotActive
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		// A held booking (替诊) the patient came for: its open offer is
		// accepted by their coming, decided by the clerk.
		if _, err := tx.Exec(ctx, sourceQueries["settle_held_offer"], id, booking.OfferAccepted, at, nullable(ev.StaffID)); err != nil {
			return err
		}
		_, err = ensureIdentity(ctx, tx, card, at, false)
		return err
	})
	if err != nil {
		return booking.Booking{}, err
	}
	return s.Booking(ctx, id)
}

// RecordStaffAction stores a staff action's event and audit entry together
// (a refused check-in, a reissue).
func (s *Store) RecordStaffAction(ctx context.Context, ev booking.Event, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "record_refusal", func(tx pgx.Tx) error {
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

func insertAudit(ctx context.Context, tx pgx.Tx, a booking.AuditEntry) error {
	_, err := tx.Exec(ctx, q("insert_audit"), auditArgs(a)...)
	return err
}

// barIfCrossed bars an identity when its no-shows in the window crossed a
// threshold with the latest marked ones (marked of them). The trigger booking
// keys the bar, so running this twice for one trigger bars once.
func barIfCrossed(ctx context.Context, tx pgx.Tx, identityID, trigger string, marked int, now time.Time, rules booking.NoShowRules) (*booking.Bar, error) {
	var n int
	from := now.Add(-rules.Window).UTC().Format(time.DateOnly)
	if err := tx.QueryRow(ctx, q("count_no_shows"), identityID, from).Scan(&n); err != nil {
		return nil, err
	}
	step, ok := rules.Crossed(n-marked, n)
	if !ok {
		return nil, nil
	}
	bar := booking.Bar{IdentityID: identityID, NoShows: n, Until: now.Add(step.Bar), Trigger: trigger}
	tag, err := tx.Exec(ctx, q("insert_bar"), trigger, identityID, n, bar.Until, now)
	if err != nil || tag.RowsAffected() == 0 {
		return nil, err
	}
	var idHash []byte
	if err := tx.QueryRow(ctx, q("identity_hash"), identityID).Scan(&idHash); err != nil {
		return nil, err
	}
	bar.IdentityKey = booking.IdentityKey(idHash)
	return &bar, nil
}

// MarkNoShows marks every confirmed booking of a session that ended (within
// the last week) as a no-show, writes their events, and bars identities that
// crossed a threshold. Two runs at once mark and bar each booking once: the
// SERIALIZABLE transaction makes one of them retry and find nothing.
func (s *Store) MarkNoShows(ctx context.Context, now time.Time, rules func(hospitalID string) booking.NoShowRules) (_ int, _ []booking.Bar, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var marked int
	var bars []booking.Bar
	err := s.db.Tx(ctx, "mark_no_shows", func(tx pgx.Tx) error {
		marked, bars = 0, bars[:0]
		rows, _ := tx.Query(ctx, q("mark_no_shows"), now, now.Add(-7*24*time.Hour))
		type noShow struct{ id, identity, session, hospital, dept, doctor, account, patient, channel string }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (noShow, error) {
			var n noShow
			err := r.Scan(&n.id, &n.identity, &n.session, &n.hospital, &n.dept, &n.doctor, &n.account, &n.patient, &n.channel)
			return n, err
		})
		if err != nil {
			return err
		}
		marked = len(list)
		perIdentity := map[string][]string{}
		hospitalOf := map[string]string{} // the hospital of the identity's last no-show here
		for _, n := range list {
			perIdentity[n.identity] = append(perIdentity[n.identity], n.id)
			hospitalOf[n.identity] = n.hospital
			ev := booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventNoShow, AccountID: n.account, IdentityID: n.identity,
				PatientID: n.patient, BookingID: n.id, SessionID: n.session, HospitalID: n.hospital,
				DepartmentID: n.dept, DoctorID: n.doctor, Channel: booking.Channel(n.channel)}
			if err := insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		for identity, ids := range perIdentity {
			bar, err := barIfCrossed(ctx, tx, identity, ids[len(ids)-1], len(ids), now, rules(hospitalOf[identity]))
			if err != nil {
				return err
			}
			bars = appendBar(bars, bar)
		}
		return nil
	})
	return marked, bars, err
}

// MarkNoShow marks one confirmed booking as a no-show now (the desk, when a
// patient did not come for their time), with its event and audit entry.
func (s *Store) MarkNoShow(ctx context.Context, id string, now time.Time, rules booking.NoShowRules, ev booking.Event, a booking.AuditEntry) (_ []booking.Bar, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var bars []booking.Bar
	err := s.db.Tx(ctx, "mark_no_show", func(tx pgx.Tx) error {
		c := closing{id: id, noShow: true, now: now, rules: rules, ev: ev, audit: &a}
		bar, err := closeBooking(ctx, tx, c, q("mark_no_show"), id)
		bars = appendBar(bars[:0], bar)
		return err
	})
	return bars, err
}

// closing is what ends an active booking: a cancellation or a no-show.
type closing struct {
	id     string
	noShow bool // counts against the identity's no-show record (a late cancellation too)
	now    time.Time
	rules  booking.NoShowRules
	ev     booking.Event
	audit  *booking.AuditEntry // nil: none (the patient's own cancellation)
}

// closeBooking is the one transaction body of CancelBooking and MarkNoShow:
// the status change (stmt with args, which must touch only an active
// booking), its event and audit entry, and, when it counts as a no-show, the
// bar it may earn.
func closeBooking(ctx context.Context, tx pgx.Tx, c closing, stmt string, args ...any) (*booking.Bar, error) {
	tag, err := tx.Exec(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 {
		return nil, booking.ErrBookingNotActive
	}
	if err := insertEvent(ctx, tx, c.ev); err != nil {
		return nil, err
	}
	if c.audit != nil {
		if err := insertAudit(ctx, tx, *c.audit); err != nil {
			return nil, err
		}
	}
	if !c.noShow {
		return nil, nil
	}
	var identityID string
	if err := tx.QueryRow(ctx, q("booking_identity"), c.id).Scan(&identityID); err != nil {
		return nil, err
	}
	return barIfCrossed(ctx, tx, identityID, c.id, 1, c.now, c.rules)
}

// appendBar appends the bar a closing earned, if any.
func appendBar(bars []booking.Bar, bar *booking.Bar) []booking.Bar {
	if bar == nil {
		return bars
	}
	return append(bars, *bar)
}

// ActiveBars lists the identities barred at now, with the latest end.
func (s *Store) ActiveBars(ctx context.Context, now time.Time) (_ []booking.Bar, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("active_bars"), now)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Bar, error) {
		var b booking.Bar
		var idHash []byte
		err := r.Scan(&idHash, &b.Until)
		b.IdentityKey = booking.IdentityKey(idHash)
		return b, err
	})
}

// NoShowRecords reads each identity's standing under the no-show rules.
func (s *Store) NoShowRecords(ctx context.Context, identityIDs []string, since, now time.Time) (_ map[string]booking.NoShowRecord, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := make(map[string]booking.NoShowRecord, len(identityIDs))
	rows, _ := s.db.pool.Query(ctx, q("no_show_records"), identityIDs, since.UTC().Format(time.DateOnly), now)
	var id string
	var n int
	var barred, blocked *time.Time
	_, err := pgx.ForEachRow(rows, []any{&id, &n, &barred, &blocked}, func() error {
		rec := booking.NoShowRecord{NoShows: n}
		if barred != nil {
			rec.BarredUntil = *barred
		}
		if blocked != nil {
			rec.BlockedUntil = *blocked
		}
		out[id] = rec
		return nil
	})
	return out, err
}

func scanWaitlist(r pgx.CollectableRow) (booking.WaitlistEntry, error) {
	var e booking.WaitlistEntry
	var idHash, nameHash []byte
	var roundEnd *time.Time
	var key int64
	err := r.Scan(&e.ID, &e.SessionID, &e.HospitalID, &e.PatientID, &e.IdentityID, &idHash, &e.AccountID, &e.Status, &e.CreatedAt,
		&e.BookedBy, &nameHash, &roundEnd, &key)
	e.IdentityKey, e.NameHash, e.Key = booking.IdentityKey(idHash), string(nameHash), uint64(key)
	if roundEnd != nil {
		e.RoundEndsAt = *roundEnd
	}
	return e, err
}

// waitlistPosition reads a waiting entry's place in line, and those ahead
// in earlier rounds and in its round.
func waitlistPosition(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, e *booking.WaitlistEntry) error {
	round := e.CreatedAt
	if !e.RoundEndsAt.IsZero() {
		round = e.RoundEndsAt
	}
	var pos, ahead, in int
	err := db.QueryRow(ctx, q("waitlist_position"), e.SessionID, round, int64(e.Key), e.CreatedAt, e.ID).Scan(&pos, &ahead, &in)
	e.Position, e.Ahead, e.InRound = pos, ahead, in
	return err
}

func waitlistQuery(clause string) string { return q("waitlist_rows") + "\n" + q(clause) }

// AddWaitlist puts an identity on a session's waitlist with its event and
// returns the entry with its position: ErrAlreadyBooked while the identity
// holds a booking there, ErrAlreadyWaitlisted while it waits there.
func (s *Store) AddWaitlist(ctx context.Context, e booking.WaitlistEntry, ev booking.Event) (booking.WaitlistEntry, error) {
	return s.addWaitlist(ctx, e, ev, false)
}

// AddWaitlistBeside puts an account's patient on the waitlist whatever
// else the identity holds or waits for there, beside a place in a round
// still open with that place's round and key (booking.WaitlistStore).
func (s *Store) AddWaitlistBeside(ctx context.Context, e booking.WaitlistEntry, ev booking.Event) (booking.WaitlistEntry, error) {
	return s.addWaitlist(ctx, e, ev, true)
}

func (s *Store) addWaitlist(ctx context.Context, e booking.WaitlistEntry, ev booking.Event, beside bool) (_ booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "add_waitlist", func(tx pgx.Tx) error {
		if beside {
			var end time.Time
			var key int64
			switch err := tx.QueryRow(ctx, q("place_in_open_round"), e.SessionID, e.IdentityID, e.CreatedAt).Scan(&end, &key); {
			case err == nil:
				e.RoundEndsAt, e.Key = end, uint64(key)
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		} else {
			var active, waiting int
			if err := tx.QueryRow(ctx, q("held_in_session"), e.SessionID, e.IdentityID).Scan(&active, &waiting); err != nil {
				return err
			}
			if active > 0 {
				return booking.ErrAlreadyBooked
			}
			if waiting > 0 {
				return booking.ErrAlreadyWaitlisted
			}
		}
		var roundEnd *time.Time
		if !e.RoundEndsAt.IsZero() {
			roundEnd = &e.RoundEndsAt
		}
		var in bool
		if err := tx.QueryRow(ctx, q("insert_waitlist"), e.ID, e.SessionID, e.HospitalID, nullable(e.PatientID), e.IdentityID,
			nullable(e.AccountID), e.CreatedAt, nullable(e.BookedBy), nullBytes(e.NameHash), roundEnd, int64(e.Key)).Scan(&in); err != nil {
			return err
		}
		if !in {
			return booking.ErrIdentityDeceased // the desk recorded the person's death
		}
		if a, staff := booking.StaffWaitlistAudit(e); staff {
			if err := insertAudit(ctx, tx, a); err != nil {
				return err
			}
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		return waitlistPosition(ctx, tx, &e)
	})
	if name, ok := uniqueViolation(err); ok && (name == "waitlist_one_per_account" || name == "waitlist_one_by_phone") {
		return e, booking.ErrAlreadyWaitlisted
	}
	e.Status = booking.WaitlistWaiting
	return e, err
}

// IdentitiesByPhone finds the people a phone number is known for.
func (s *Store) IdentitiesByPhone(ctx context.Context, phoneHash []byte, phoneRef string, limit int) (_ []booking.Identity, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("identities_by_phone"), phoneHash, phoneRef, limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Identity, error) { return scanIdentity(r) })
}

// PhoneKin tells who the people a phone number is known for are to an
// account of it, the holder's self first.
func (s *Store) PhoneKin(ctx context.Context, phoneHash []byte) (_ map[string]booking.Kin, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("phone_kin"), phoneHash)
	out := map[string]booking.Kin{}
	var id, rel string
	var born, pref int
	_, err := pgx.ForEachRow(rows, []any{&id, &rel, &born, &pref}, func() error {
		if _, ok := out[id]; !ok {
			out[id] = booking.Kin{Relationship: booking.Relationship(rel), BirthYear: born}
		}
		return nil
	})
	return out, err
}

// PatientsWithPhone lists the patients still listed given this contact
// number (patients_with_phone, by the phone's index).
func (s *Store) PatientsWithPhone(ctx context.Context, phoneHash []byte) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("patients_with_phone"), phoneHash)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Roster lists a hospital's day at the desk with its people masked: two
// reads of the (hospital, visit date) index.
func (s *Store) Roster(ctx context.Context, hospitalID, visitDate string) (_ []booking.RosterEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("roster"), hospitalID, visitDate)
	bs, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return nil, err
	}
	type masked struct {
		idType, number, name, rel string
		born                      int
	}
	people := map[string]masked{}
	rows, _ = s.db.pool.Query(ctx, q("roster_people"), hospitalID, visitDate)
	var id string
	var m masked
	if _, err := pgx.ForEachRow(rows, []any{&id, &m.idType, &m.number, &m.name, &m.rel, &m.born}, func() error {
		people[id] = m
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]booking.RosterEntry, len(bs))
	for i, b := range bs {
		p := people[b.ID]
		out[i] = booking.RosterEntry{Booking: b, IDType: p.idType, NumberMasked: p.number, NameMasked: p.name,
			Relationship: booking.Relationship(p.rel), BirthYear: p.born}
	}
	return out, nil
}

// WaitlistEntry reads one entry, with its position while waiting.
func (s *Store) WaitlistEntry(ctx context.Context, id string) (_ booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, waitlistQuery("waitlist_entry"), id)
	e, err := pgx.CollectExactlyOneRow(rows, scanWaitlist)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, booking.ErrWaitlistNotFound
	}
	if err == nil && e.Status == booking.WaitlistWaiting {
		err = waitlistPosition(ctx, s.db.pool, &e)
	}
	return e, err
}

// WaitlistOfAccount lists an account's entries, newest first, with the
// place in line of those still waiting.
func (s *Store) WaitlistOfAccount(ctx context.Context, accountID string, p booking.Page) (_ []booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, waitlistQuery("waitlist_of_account"), accountID, nullUUID(p.After), p.Size(booking.WaitlistPageSize))
	es, err := pgx.CollectRows(rows, scanWaitlist)
	for i := range es {
		if err == nil && es[i].Status == booking.WaitlistWaiting {
			err = waitlistPosition(ctx, s.db.pool, &es[i])
		}
	}
	return es, err
}

// WaitingPlacesMadeBy is booking.WaitlistStore's.
func (s *Store) WaitingPlacesMadeBy(ctx context.Context, accountID, after string, limit int) (_ []booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, waitlistQuery("waiting_places_made_by"), accountID, nullUUID(after), limit)
	return pgx.CollectRows(rows, scanWaitlist)
}

// WaitingEntries lists a hospital's waiting entries, first in line first.
func (s *Store) WaitingEntries(ctx context.Context, hospitalID string) (_ []booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, waitlistQuery("waitlist_waiting"), hospitalID)
	return pgx.CollectRows(rows, scanWaitlist)
}

// WaitlistStatuses reads the status of each entry id that exists.
func (s *Store) WaitlistStatuses(ctx context.Context, ids []string) (_ map[string]string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := make(map[string]string, len(ids))
	rows, _ := s.db.pool.Query(ctx, q("waitlist_statuses"), ids)
	var id, st string
	_, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error {
		out[id] = st
		return nil
	})
	return out, err
}

// CloseWaitlist ends waiting entries (cancelled by their patient, or skipped
// as no longer eligible), with an event and an audit entry when given.
func (s *Store) CloseWaitlist(ctx context.Context, ids []string, status string, at time.Time, ev *booking.Event, audit *booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "close_waitlist", func(tx pgx.Tx) error {
		closed := int64(0)
		for _, id := range ids {
			tag, err := tx.Exec(ctx, q("close_waitlist"), id, status, at)
			if err != nil {
				return err
			}
			closed += tag.RowsAffected()
		}
		if closed == 0 && len(ids) == 1 {
			return booking.ErrWaitlistNotWaiting
		}
		if ev != nil {
			if err := insertEvent(ctx, tx, *ev); err != nil {
				return err
			}
		}
		if audit != nil {
			return insertAudit(ctx, tx, *audit)
		}
		return nil
	})
}

// WaitingOfPerson lists an identity's waiting places in a session, oldest
// first.
func (s *Store) WaitingOfPerson(ctx context.Context, sessionID, identityID string) (_ []booking.WaitlistEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, waitlistQuery("waiting_of_person"), sessionID, identityID)
	return pgx.CollectRows(rows, scanWaitlist)
}

// EndPlaces ends waiting places as skipped and tells each one's account,
// in one statement.
func (s *Store) EndPlaces(ctx context.Context, ids, bodies []string, at time.Time) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.Exec(ctx, q("end_places"), ids, at, bodies)
	return err
}

// MadeByOthers lists what patient accounts other than accountID made for
// an identity, with their masked phones.
func (s *Store) MadeByOthers(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (_ booking.MadeByOthers, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out, err := s.madeBy(ctx, "by_others", identityID, accountID, fromDate, since)
	if err != nil {
		return out, err
	}
	var ids []string
	for _, b := range out.Bookings {
		ids = append(ids, b.AccountID)
	}
	for _, e := range out.Entries {
		ids = append(ids, e.AccountID)
	}
	for _, w := range out.Waitlist {
		ids = append(ids, w.AccountID)
	}
	out.Makers, err = s.pairs(ctx, q("masked_phones_of_accounts"), ids)
	return out, err
}

// MadeByAccount lists what accountID itself made for an identity.
func (s *Store) MadeByAccount(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (_ booking.MadeByOthers, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.madeBy(ctx, "by_account", identityID, accountID, fromDate, since)
}

// madeBy reads an identity's bookings, entries and waitlist places by the
// queries named bookings_<which>, entries_<which> and waitlist_<which>.
func (s *Store) madeBy(ctx context.Context, which, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	var out booking.MadeByOthers
	rows, _ := s.db.pool.Query(ctx, bookingQuery("bookings_"+which), identityID, accountID, fromDate)
	bs, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return out, err
	}
	rows, _ = s.db.pool.Query(ctx, entryQuery("entries_"+which), identityID, accountID, since)
	es, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return out, err
	}
	rows, _ = s.db.pool.Query(ctx, waitlistQuery("waitlist_"+which), identityID, accountID, since)
	ws, err := pgx.CollectRows(rows, scanWaitlist)
	out.Bookings, out.Entries, out.Waitlist = bs, es, ws
	return out, err
}

// PromoteWaitlist turns a waiting entry into its booking: the booking row
// (whose id is the entry's), the entry served, the event. If the booking is
// already there, it did commit before: nothing to do. An entry whose account
// is blocked at b.CreatedAt is refused (booking.ErrAccountBlocked), nothing
// written.
func (s *Store) PromoteWaitlist(ctx context.Context, b booking.Booking, ev booking.Event) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "promote_waitlist", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("close_waitlist"), b.ID, booking.WaitlistServed, b.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrWaitlistNotWaiting
		}
		// Nor for an account blocked at the promotion (a confirmed flag):
		// Redis judges the person's bars, not the account, and an instance
		// that placed the slot may not have reloaded since the confirmation.
		// The row is read FOR SHARE, as a booking's insert reads it, so a
		// confirmation waits for this promotion and its sweep then finds
		// the booking (session 24).
		if b.AccountID != "" {
			var blocked bool
			if err := tx.QueryRow(ctx, q("account_blocked_for_share"), b.AccountID, b.CreatedAt).Scan(&blocked); err != nil {
				return err
			}
			if blocked {
				return booking.ErrAccountBlocked
			}
		}
		// The booking is made under the waiting patient's claim, which must
		// not be another than the identity's verified name.
		// Nor for a person whose death the desk recorded since they joined.
		var ok, dead bool
		var nameHash []byte
		claim, arg := "patient_claim", b.PatientID
		if b.PatientID == "" {
			claim, arg = "waitlist_claim", b.ID // a caller waitlisted by phone
		}
		if err := tx.QueryRow(ctx, q(claim), arg).Scan(&nameHash, &ok, &dead); err != nil {
			return err
		}
		b.NameHash = string(nameHash)
		if dead {
			return booking.ErrIdentityDeceased
		}
		if !ok {
			return booking.ErrIdentityUnverified
		}
		if err := insertBooking(ctx, tx, b); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if name, ok := uniqueViolation(err); ok {
		switch name {
		case "bookings_active_slot":
			return booking.ErrSlotTaken
		case "bookings_active_identity_day_department":
			return booking.ErrQuotaDayDept
		}
	}
	return err
}

// AddSlots appends extra slots (加号) to a session's channel pool, with the
// audit entry of the clerk who added them; the entry's target records the
// slot numbers. If an audit entry with a.ID exists, this is a repeat of that
// request: nothing is added and its slots are returned — or, when that
// request was for another session (a.Target) or count,
// booking.ErrIdempotencyReuse. The session's extra
// slots may not pass most (booking.ErrExtraSlotsLimit): counted in the
// SERIALIZABLE transaction that adds them, so of two clerks adding at once
// the second is retried after the first and counts its slots.
func (s *Store) AddSlots(ctx context.Context, sessionID string, ch booking.Channel, count, most int, start, end time.Time, releaseAt time.Time, a booking.AuditEntry) (_ []booking.Slot, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var added []booking.Slot
	err := s.db.Tx(ctx, "add_slots", func(tx pgx.Tx) error {
		added = added[:0]
		var target, reason string
		err := tx.QueryRow(ctx, q("keyed_audit"), a.ID).Scan(&target, &reason, new(string))
		if err == nil {
			was, list, _ := strings.Cut(target, " slots:")
			for _, f := range strings.Split(list, ",") {
				if n, err := strconv.Atoi(f); err == nil {
					added = append(added, booking.Slot{No: n, Channel: ch, StartsAt: start, EndsAt: end})
				}
			}
			if was != a.Target || len(added) != count {
				// The key of another request (another session, another
				// count): its slots are not this one's answer.
				added = added[:0]
				return booking.ErrIdempotencyReuse
			}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// A lottery pool takes extra slots while its draw is open only: the
		// caller's catalog may not have seen a draw another instance began
		// or finished (review22 M1). The share lock orders this with the
		// draw's claim, which counts the pool's slots after it.
		var status string
		switch err := tx.QueryRow(ctx, q("pool_status_for_share"), sessionID, string(ch)).Scan(&status); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case status != booking.DrawOpen:
			return booking.Errorf(booking.ErrLotteryOnly, "the %s pool's draw is %s: add the extra slots once it is drawn — they then go to its waitlist first, the losers in drawn order", ch, status)
		}
		var extra int
		if err := tx.QueryRow(ctx, q("extra_slot_count"), sessionID).Scan(&extra); err != nil {
			return err
		}
		if extra+count > most {
			return booking.Errorf(booking.ErrExtraSlotsLimit, "the session has %d extra slots and the hospital's policy allows %d: %d more would pass it",
				extra, most, count)
		}
		var last int
		if err := tx.QueryRow(ctx, q("max_slot"), sessionID).Scan(&last); err != nil {
			return err
		}
		for i := 1; i <= count; i++ {
			sl := booking.Slot{No: last + i, Channel: ch, StartsAt: start, EndsAt: end}
			if _, err := tx.Exec(ctx, q("insert_slot"), sessionID, sl.No, string(ch), start, end); err != nil {
				return err
			}
			added = append(added, sl)
		}
		if _, err := tx.Exec(ctx, q("add_channel_quota"), sessionID, string(ch), count, releaseAt); err != nil {
			return err
		}
		nos := make([]string, len(added))
		for i, sl := range added {
			nos[i] = strconv.Itoa(sl.No)
		}
		a.Target += " slots:" + strings.Join(nos, ",")
		if _, err := tx.Exec(ctx, q("bump_session_version"), sessionID); err != nil {
			return err
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	return added, err
}

// MoveSlots moves free slots from one channel pool to another, with the
// audit entry. A slot no longer in the from pool in SQL fails the move.
func (s *Store) MoveSlots(ctx context.Context, sessionID string, slots []int, from, to booking.Channel, releaseAt time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "move_slots", func(tx pgx.Tx) error {
		for _, n := range slots {
			tag, err := tx.Exec(ctx, q("move_slot"), sessionID, n, string(to), string(from))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return booking.Errorf(booking.ErrInvalidField, "slot %d is not in the %s pool", n, from)
			}
		}
		tag, err := tx.Exec(ctx, q("take_channel_quota"), sessionID, string(from), len(slots))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.Errorf(booking.ErrInvalidField, "the %s pool has fewer than %d slots", from, len(slots))
		}
		if _, err := tx.Exec(ctx, q("add_channel_quota"), sessionID, string(to), len(slots), releaseAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("bump_session_version"), sessionID); err != nil {
			return err
		}
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// LinkIdentity makes document docID the person personID's, with every
// document linked to docID before: its bookings (all of them, so the
// no-shows count for the person), lottery entries, waitlist places, bars
// and blocks move to the person, in one transaction with the audit entry
// (copied to every other hospital where the person holds something). What
// would meet a per-person unique index (an active booking that day in that
// department, a live entry or a waiting place in the same session) must be
// void first (LinkIdentities): a row left is ErrConflict, and nothing is
// linked.
func (s *Store) LinkIdentity(ctx context.Context, docID, personID string, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "link_identity", func(tx pgx.Tx) error {
		for _, name := range []string{"link_identity", "link_bookings", "link_entries", "link_waitlist", "link_bars",
			"link_blocks", "unlink_blocks_left"} {
			args := []any{docID, personID}
			if name == "unlink_blocks_left" {
				args = args[:1]
			}
			if _, err := tx.Exec(ctx, q(name), args...); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		return insertAuditOfPerson(ctx, tx, personID, a)
	})
	if _, ok := uniqueViolation(err); ok {
		return fmt.Errorf("link identity: a booking, entry or waitlist place of the document meets the person's: %w", booking.ErrLinkConflict)
	}
	return err
}

// PersonLinks is how many ID documents the desk has linked to a person
// (identities_by_person, a partial index of the linked ones only).
func (s *Store) PersonLinks(ctx context.Context) (_ int64, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int64
	err := s.db.pool.QueryRow(ctx, q("person_links")).Scan(&n)
	return n, err
}

// NamesakeEntered says whether another member of the account under
// patient's name, with another type of document, has an entry in the
// session's draw.
func (s *Store) NamesakeEntered(ctx context.Context, accountID, patientID, sessionID string) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var found bool
	err := s.db.pool.QueryRow(ctx, q("namesake_entered"), patientID, accountID, sessionID).Scan(&found)
	return found, err
}

// DeathRecordedIn is booking.Store's.
func (s *Store) DeathRecordedIn(ctx context.Context, identityID, hospitalID string) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var here bool
	err := s.db.pool.QueryRow(ctx, q("death_recorded_in"), "identity:"+identityID, hospitalID).Scan(&here)
	return here, err
}

// LiftDeath is booking.Store's: one transaction.
func (s *Store) LiftDeath(ctx context.Context, identityID string, a booking.AuditEntry, n booking.Notification) (told int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "lift_deceased", func(tx pgx.Tx) error {
		told = 0
		tag, err := tx.Exec(ctx, q("lift_deceased"), identityID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.Errorf(booking.ErrPatientNotFound, "no death is recorded for this person")
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("insert_audit_where_death"), auditArgs(a)[1:]...); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, q("listers_of_identity"), identityID)
		accounts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, acc := range accounts {
			if _, err := tx.Exec(ctx, q("insert_person_notification"), nullable(a.HospitalID), n.Kind, acc, identityID,
				n.Body, n.CreatedAt); err != nil {
				return err
			}
		}
		told = len(accounts)
		return nil
	})
	return told, err
}

// MarkDeceased is booking.Store's: one transaction.
func (s *Store) MarkDeceased(ctx context.Context, identityID string, at time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "mark_deceased", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q("mark_deceased"), identityID, at); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		return insertAuditOfPerson(ctx, tx, identityID, a)
	})
}
