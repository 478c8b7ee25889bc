package cockroach_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// These tests run the store against the real PostgreSQL of `make test`,
// each on a freshly migrated database of its own (testenv.DB).

var shanghai = testenv.Shanghai

var day = testenv.Day

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// now is a timestamp PostgreSQL stores exactly (microseconds).
func now() time.Time { return time.Now().Truncate(time.Microsecond) }

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	db, err := cockroach.Open(ctx, testenv.DatabaseURL(t), nil)
	testenv.Must(t, err, "open")
	t.Cleanup(db.Close)
	flavor := expectedFlavor()
	if got := db.Flavor(); got != flavor {
		t.Fatalf("flavor = %s, want %s", got, flavor)
	}

	applied, err := db.Migrate(ctx)
	testenv.Must(t, err, "first migrate")
	want := []string{"0001_schema.sql", "0002_events_by_time." + string(flavor) + ".sql", "0003_desk_and_waitlist.sql", "0004_flags.sql",
		"0005_ownership.sql", "0005_roles." + string(flavor) + ".sql", "0007_flag_explanation.sql", "0007_referrer_role." + string(flavor) + ".sql",
		"0008_lottery.sql", "0009_job_leases.sql", "0010_sources.sql", "0010_sources_catalog.sql", "0010_sources_policy.sql",
		"0011_consoles.sql", "0013_entry_name.sql", "0014_a_cases.sql", "0014_b_notification_kinds." + string(flavor) + ".sql",
		"0015_a_doctors.sql", "0015_b_templates.sql", "0019_reports_by_time.sql", "0020_staff_names.sql",
		"0021_a_patient_relationship.sql", "0021_b_patient_relationship_self.sql", "0022_event_notifications.sql", "0023_a_patient_removal.sql", "0023_b_lottery_notifications.sql", "0023_c_appeals." + string(flavor) + ".sql",
		"0024_a_policy_rules.sql", "0024_b_account_policies.sql", "0024_c_substitute_offers.sql",
		"0025_presented_identity.sql", "0028_lottery_review_notifications.sql", "0029_extra_slots_max.sql",
		"0030_service_reads_migrations.sql", "0031_staff_disabled.sql", "0032_waitlist_rounds.sql", "0033_event_by_account.sql", "0034_self_verified.sql",
		"0035_waitlist_place_per_account.sql", "0036_callbacks.sql", "0037_call_back.sql", "0038_key_check.sql", "0039_call_back_retention.sql", "0040_made_for_person_notices.sql", "0041_caller_phone_contact.sql", "0042_booked_name.sql",
		"0043_a_retention_erasure.sql", "0043_b_event_phones." + string(flavor) + ".sql", "0044_offer_withdrawn.sql", "0045_live_session_per_period." + string(flavor) + ".sql", "0046_person_lookups.sql", "0047_booking_allotted.sql", "0048_case_numbers.sql", "0049_password_reset_codes.sql", "0050_a_case_folded_into.sql", "0050_b_case_folded_into_index.sql", "0051_release_notice.sql", "0052_session_version.sql", "0053_name_corrected_notices.sql", "0054_session_changed_notices.sql", "0055_account_closing.sql", "0056_phone_release_notifications.sql", "0057_identity_person.sql", "0058_stop_restore.sql", "0059_account_takeover.sql", "0060_lottery_seed_binding.sql",
		"0061_a_lottery_pool_columns.sql"}
	if flavor == cockroach.Postgres { // CockroachDB has no column privileges
		want = append(want, "0061_b_seed_columns_insert_only.postgres.sql")
	}
	want = append(want, "0062_pending_closing.sql")
	want = append(want, "0063_session_notices.sql")
	want = append(want, "0064_a_event_traces."+string(flavor)+".sql", "0064_b_event_phones_index_gone.sql")
	want = append(want, "0065_a_due_process.sql", "0065_b_flag_overturned."+string(flavor)+".sql")
	want = append(want, "0066_a_privacy_consents.sql")
	want = append(want, "0068_hospital_holidays.sql")
	want = append(want, "0069_pool_published_at.sql")
	want = append(want, "0070_audit_by_actor.sql")
	want = append(want, "0071_a_retention_m7.sql")
	want = append(want, "0073_a_rekey.sql")
	want = append(want, "0075_a_closing_notices.sql")
	want = append(want, "0076_hospital_workdays.sql")
	want = append(want, "0082_a_holder_changed.sql")
	want = append(want, "0083_a_names_and_deaths.sql")
	want = append(want, "0084_a_consent_leftovers.sql")
	want = append(want, "0085_a_death_lifted.sql")
	want = append(want, "0086_a_name_key.sql")
	want = append(want, "0087_a_consent_due_unread.sql")
	want = append(want, "0089_a_card_readers.sql")
	want = append(want, "0091_a_flag_dismissal.sql")
	if !slices.Equal(applied, want) {
		t.Errorf("first migrate applied %v, want %v", applied, want)
	}
	applied, err = db.Migrate(ctx)
	testenv.Must(t, err, "second migrate")
	if len(applied) != 0 {
		t.Errorf("second migrate applied %v, want nothing", applied)
	}

	rows, err := db.Pool().Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	testenv.Must(t, err, "schema_migrations")
	var recorded []string
	for rows.Next() {
		var n string
		testenv.Must(t, rows.Scan(&n), "scan")
		recorded = append(recorded, n)
	}
	testenv.Must(t, rows.Err(), "schema_migrations")
	if !slices.Equal(recorded, want) {
		t.Errorf("schema_migrations = %v, want %v (no migration of the other flavor)", recorded, want)
	}
	if flavor == cockroach.Cockroach {
		var def string
		testenv.Must(t, db.Pool().QueryRow(ctx,
			`SELECT create_statement FROM [SHOW CREATE TABLE booking_events]`).Scan(&def), "show create table")
		if !strings.Contains(def, "USING HASH") {
			t.Errorf("booking_events = %q, want the hash-sharded index on ts", def)
		}
		return
	}
	var def string
	testenv.Must(t, db.Pool().QueryRow(ctx,
		`SELECT indexdef FROM pg_indexes WHERE indexname = 'booking_events_by_ts'`).Scan(&def), "index")
	if !strings.Contains(def, "USING btree") {
		t.Errorf("booking_events_by_ts = %q, want the plain PostgreSQL btree index", def)
	}
}

// world is a hospital with two departments and three sessions tomorrow:
// s1 and s2 in department A (different doctors), s3 in department B.
type world struct {
	t          *testing.T
	ctx        context.Context
	db         *cockroach.DB
	st         *cockroach.Store
	sch        booking.Schedule
	hosp       booking.Hospital
	s1, s2, s3 booking.Session
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, testenv.DB(t))
}

// newWorldOn is newWorld in the migrated database db.
func newWorldOn(t *testing.T, db *cockroach.DB) *world {
	t.Helper()
	w := &world{t: t, ctx: t.Context(), db: db, st: cockroach.NewStore(db)}
	w.hosp = booking.Hospital{ID: booking.NewID(), Name: "Test Hospital " + testenv.Token(),
		TimeZone: "Asia/Shanghai", CancelDeadline: "15:00", Policy: booking.Policy{PerDay: 2, PerWeek: 6, PerMonth: 9}}
	deptA := booking.Department{ID: booking.NewID(), HospitalID: w.hosp.ID, Name: "Cardiology"}
	deptB := booking.Department{ID: booking.NewID(), HospitalID: w.hosp.ID, Name: "Dermatology"}
	docs := []booking.Doctor{
		{ID: booking.NewID(), HospitalID: w.hosp.ID, DepartmentID: deptA.ID, Name: "Dr A1", Title: "Chief", FeeLevel: booking.FeeExpert},
		{ID: booking.NewID(), HospitalID: w.hosp.ID, DepartmentID: deptA.ID, Name: "Dr A2", FeeLevel: booking.FeeGeneral},
		{ID: booking.NewID(), HospitalID: w.hosp.ID, DepartmentID: deptB.ID, Name: "Dr B1", Title: "Attending", FeeLevel: booking.FeeSpecial},
	}
	date := day(1)
	d, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	testenv.Must(t, err, "date")
	released, later := now().Add(-time.Hour), now().Add(24*time.Hour)
	build := func(doc booking.Doctor, period string, start time.Duration, mode booking.ReleaseMode, q ...booking.ChannelQuota) booking.Session {
		s, err := booking.BuildSession(booking.SessionSpec{HospitalID: w.hosp.ID, DepartmentID: doc.DepartmentID,
			DoctorID: doc.ID, VisitDate: date, Period: period, StartsAt: d.Add(start), EndsAt: d.Add(start + 4*time.Hour),
			Mode: mode, Quotas: q})
		testenv.Must(t, err, "build session")
		return s
	}
	w.s1 = build(docs[0], "morning", 8*time.Hour, booking.FirstCome,
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 3, ReleaseAt: released},
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: later})
	w.s2 = build(docs[1], "morning", 8*time.Hour, booking.Lottery,
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: released})
	w.s3 = build(docs[2], "afternoon", 13*time.Hour, booking.FirstCome,
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: released})
	w.sch = booking.Schedule{Hospitals: []booking.Hospital{w.hosp}, Departments: []booking.Department{deptA, deptB},
		Doctors: docs, Sessions: []booking.Session{w.s1, w.s2, w.s3}}
	testenv.Must(t, w.st.SaveSchedule(w.ctx, w.sch), "save schedule")
	return w
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	testenv.Must(w.t, w.db.Pool().QueryRow(w.ctx, query, args...).Scan(&n), "%s", query)
	return n
}

// normalize puts a schedule in a canonical order with UTC times, so that a
// stored and a loaded schedule compare with reflect.DeepEqual.
func normalize(s booking.Schedule) booking.Schedule {
	out := booking.Schedule{
		Hospitals:   slices.Clone(s.Hospitals),
		Departments: slices.Clone(s.Departments),
		Doctors:     slices.Clone(s.Doctors),
	}
	slices.SortFunc(out.Hospitals, func(a, b booking.Hospital) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Departments, func(a, b booking.Department) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Doctors, func(a, b booking.Doctor) int { return cmp.Compare(a.ID, b.ID) })
	for _, x := range s.Sessions {
		x.StartsAt, x.EndsAt = x.StartsAt.UTC(), x.EndsAt.UTC()
		x.Channels = slices.Clone(x.Channels)
		for i := range x.Channels {
			q := &x.Channels[i]
			q.ReleaseAt, q.OpensAt, q.DrawAt = q.ReleaseAt.UTC(), q.OpensAt.UTC(), q.DrawAt.UTC()
		}
		slices.SortFunc(x.Channels, func(a, b booking.ChannelQuota) int { return cmp.Compare(a.Channel, b.Channel) })
		x.Slots = slices.Clone(x.Slots)
		for i := range x.Slots {
			x.Slots[i].StartsAt, x.Slots[i].EndsAt = x.Slots[i].StartsAt.UTC(), x.Slots[i].EndsAt.UTC()
		}
		slices.SortFunc(x.Slots, func(a, b booking.Slot) int { return a.No - b.No })
		out.Sessions = append(out.Sessions, x)
	}
	slices.SortFunc(out.Sessions, func(a, b booking.Session) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func TestScheduleRoundTrip(t *testing.T) {
	w := newWorld(t)
	want := normalize(w.sch)
	check := func(t *testing.T) {
		t.Helper()
		got, err := w.st.LoadSchedule(w.ctx, day(0))
		testenv.Must(t, err, "load schedule")
		got = normalize(got)
		if !reflect.DeepEqual(got.Hospitals, want.Hospitals) {
			t.Errorf("hospitals = %+v, want %+v", got.Hospitals, want.Hospitals)
		}
		if !reflect.DeepEqual(got.Departments, want.Departments) {
			t.Errorf("departments = %+v, want %+v", got.Departments, want.Departments)
		}
		if !reflect.DeepEqual(got.Doctors, want.Doctors) {
			t.Errorf("doctors = %+v, want %+v", got.Doctors, want.Doctors)
		}
		if len(got.Sessions) != len(want.Sessions) {
			t.Fatalf("sessions = %d, want %d", len(got.Sessions), len(want.Sessions))
		}
		for i := range want.Sessions {
			// A saved session is at version 1 (clinic_sessions.version: an
			// edit names it), a built one at 0; saving again is no edit.
			g, x := got.Sessions[i], want.Sessions[i]
			if g.Version != 1 {
				t.Errorf("session %s: version %d once saved, want 1", x.ID, g.Version)
			}
			g.Version = x.Version
			if !reflect.DeepEqual(g, x) {
				t.Errorf("session %s:\n got %+v\nwant %+v", x.ID, g, x)
			}
		}
	}

	t.Run("round trip", check)
	t.Run("saving twice is harmless", func(t *testing.T) {
		testenv.Must(t, w.st.SaveSchedule(w.ctx, w.sch), "second save")
		check(t)
		if got, want := w.count(`SELECT count(*) FROM slots`), 5+2+2; got != want {
			t.Errorf("slots = %d, want %d", got, want)
		}
	})
	t.Run("sessions before fromDate are left out", func(t *testing.T) {
		got, err := w.st.LoadSchedule(w.ctx, day(2))
		testenv.Must(t, err, "load schedule")
		if len(got.Sessions) != 0 {
			t.Errorf("sessions from %s = %d, want 0", day(2), len(got.Sessions))
		}
		if len(got.Hospitals) != 1 {
			t.Errorf("hospitals = %d, want 1", len(got.Hospitals))
		}
	})
}

func newAccount() booking.Account {
	return booking.Account{ID: booking.NewID(), Role: booking.RolePatient, PhoneHash: randomBytes(32),
		PhoneSealed: randomBytes(40), PhoneMasked: "138****0000", PasswordHash: "$2a$10$" + testenv.Token(),
		CreatedAt: now()}
}

func (w *world) createAccount() booking.Account {
	w.t.Helper()
	a := newAccount()
	ev := booking.Event{ID: booking.NewID(), TS: a.CreatedAt, Type: booking.EventAccountCreated, AccountID: a.ID}
	testenv.Must(w.t, w.st.CreateAccount(w.ctx, a, ev), "create account")
	return a
}

func TestAccounts(t *testing.T) {
	w := newWorld(t)
	a := w.createAccount()

	t.Run("by phone", func(t *testing.T) {
		got, err := w.st.AccountByPhone(w.ctx, a.PhoneHash)
		testenv.Must(t, err, "account by phone")
		want := a
		want.PhoneSealed = nil // not read back
		got.CreatedAt, want.CreatedAt = got.CreatedAt.UTC(), want.CreatedAt.UTC()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("account = %+v, want %+v", got, want)
		}
	})
	t.Run("duplicate phone", func(t *testing.T) {
		dup := newAccount()
		dup.PhoneHash = a.PhoneHash
		ev := booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventAccountCreated, AccountID: dup.ID}
		if err := w.st.CreateAccount(w.ctx, dup, ev); !errors.Is(err, booking.ErrPhoneTaken) {
			t.Errorf("CreateAccount = %v, want %v", err, booking.ErrPhoneTaken)
		}
		if n := w.count(`SELECT count(*) FROM booking_events WHERE id = $1`, ev.ID); n != 0 {
			t.Errorf("events of the refused account = %d, want 0", n)
		}
	})
	t.Run("unknown phone", func(t *testing.T) {
		if _, err := w.st.AccountByPhone(w.ctx, randomBytes(32)); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("AccountByPhone = %v, want %v", err, booking.ErrNotFound)
		}
	})
	t.Run("event written", func(t *testing.T) {
		if n := w.count(`SELECT count(*) FROM booking_events WHERE account_id = $1 AND type = 'account_created'`, a.ID); n != 1 {
			t.Errorf("account_created events = %d, want 1", n)
		}
	})
}

func newIdentity(nameHash []byte) booking.Identity {
	return booking.Identity{ID: booking.NewID(), IDType: "resident_id", IDHash: randomBytes(32),
		NumberSealed: randomBytes(40), NumberMasked: "1101**********123X", NameHash: nameHash,
		NameSealed: randomBytes(30), NameMasked: "张*"}
}

var limits = booking.AccountLimits{MaxPatients: 5, MaxAccountsOnPhone: 3}

// atOnce calls f(0) … f(n-1) on n goroutines released together, so that
// their transactions contend, and returns when all have returned.
func atOnce(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// succeeded counts the callers whose op returned nil; any error but the
// loser's want fails the test.
func succeeded(t *testing.T, op string, errs []error, want error) int {
	t.Helper()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
		default:
			t.Errorf("caller %d: %s = %v, want nil or %v", i, op, err, want)
		}
	}
	return ok
}

func newPatient(accountID string, id booking.Identity, self bool, phoneHash []byte) booking.NewPatient {
	np := booking.NewPatient{ID: booking.NewID(), AccountID: accountID, Identity: id, IsSelf: self}
	if phoneHash != nil {
		np.PhoneHash, np.PhoneSealed, np.PhoneMasked = phoneHash, randomBytes(40), "139****1111"
	}
	return np
}

func patientEvent(np booking.NewPatient) booking.Event {
	return booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventPatientAdded,
		AccountID: np.AccountID, PatientID: np.ID}
}

func (w *world) addPatient(np booking.NewPatient, lim booking.AccountLimits) (booking.Patient, error) {
	return w.st.AddPatient(w.ctx, np, lim, patientEvent(np))
}

func (w *world) mustAddPatient(np booking.NewPatient) booking.Patient {
	w.t.Helper()
	p, err := w.addPatient(np, limits)
	testenv.Must(w.t, err, "add patient")
	return p
}

func TestAddPatient(t *testing.T) {
	w := newWorld(t)

	t.Run("new identity", func(t *testing.T) {
		a := w.createAccount()
		id := newIdentity(randomBytes(32))
		np := newPatient(a.ID, id, true, randomBytes(32))
		np.BirthYear = 1984 // no relationship given: the holder's is self
		got := w.mustAddPatient(np)
		want := booking.Patient{ID: np.ID, AccountID: a.ID, IdentityID: id.ID, IdentityKey: id.Key(),
			IDType: id.IDType, MaskedID: id.NumberMasked, MaskedName: id.NameMasked, NameHash: string(id.NameHash),
			PhoneMasked: np.PhoneMasked, IsSelf: true, Relationship: booking.RelSelf, BirthYear: 1984, CreatedAt: got.CreatedAt}
		if got != want {
			t.Errorf("patient = %+v, want %+v", got, want)
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("patient created_at is zero")
		}
		if n := w.count(`SELECT count(*) FROM booking_events WHERE patient_id = $1 AND type = 'patient_added'`, np.ID); n != 1 {
			t.Errorf("patient_added events = %d, want 1", n)
		}
	})

	t.Run("identity shared by two accounts", func(t *testing.T) {
		id := newIdentity(randomBytes(32))
		p1 := w.mustAddPatient(newPatient(w.createAccount().ID, id, false, nil))
		again := id
		again.ID = booking.NewID() // a fresh id from the caller; the stored row wins
		p2 := w.mustAddPatient(newPatient(w.createAccount().ID, again, false, nil))
		if p2.IdentityID != p1.IdentityID {
			t.Errorf("second patient's identity = %s, want the shared %s", p2.IdentityID, p1.IdentityID)
		}
		if n := w.count(`SELECT count(*) FROM identities WHERE id_hash = $1`, id.IDHash); n != 1 {
			t.Errorf("identity rows = %d, want 1", n)
		}
	})

	t.Run("two accounts claim two names for one ID number", func(t *testing.T) {
		// The first account to type an ID number does not decide whose it
		// is: each account keeps its own claim, and the identity's name
		// stays the first one until it is verified.
		id := newIdentity(randomBytes(32))
		p1 := w.mustAddPatient(newPatient(w.createAccount().ID, id, false, nil))
		other := id
		other.ID, other.NameHash, other.NameMasked = booking.NewID(), randomBytes(32), "李*"
		p2 := w.mustAddPatient(newPatient(w.createAccount().ID, other, false, nil))
		if p2.IdentityID != p1.IdentityID || p2.NameHash != string(other.NameHash) || p2.MaskedName != "李*" || p2.Verified {
			t.Errorf("second claim = %+v, want the shared identity under its own unverified name 李*", p2)
		}
		if p1, _ := w.st.Patient(w.ctx, p1.ID); p1.NameHash != string(id.NameHash) || p1.MaskedName != id.NameMasked {
			t.Errorf("first claim after the second = %+v, want it unchanged", p1)
		}
	})

	t.Run("a verified claim becomes the identity's name", func(t *testing.T) {
		id := newIdentity(randomBytes(32))
		squat := w.mustAddPatient(newPatient(w.createAccount().ID, id, true, nil))
		real := id
		real.ID, real.NameHash, real.NameMasked, real.NameVerified = booking.NewID(), randomBytes(32), "王*", true
		owner := w.mustAddPatient(newPatient(w.createAccount().ID, real, true, nil))
		if !owner.Verified || !owner.IsSelf {
			t.Errorf("verified claim = %+v, want verified and the self (taken from the unverified one)", owner)
		}
		if squat, _ := w.st.Patient(w.ctx, squat.ID); squat.IsSelf || squat.Verified {
			t.Errorf("the squatter's claim = %+v, want it no longer the self, unverified", squat)
		}
		got, err := w.st.IdentityOf(w.ctx, owner.IdentityID)
		testenv.Must(t, err, "identity")
		if !got.NameVerified || string(got.NameHash) != string(real.NameHash) {
			t.Errorf("identity = %+v, want the verified name", got)
		}
	})

	tests := []struct {
		name  string
		setup func(t *testing.T) (booking.NewPatient, booking.AccountLimits)
		want  error
	}{
		{"identity verified under another name", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			id := newIdentity(randomBytes(32))
			id.NameVerified = true
			w.mustAddPatient(newPatient(w.createAccount().ID, id, false, nil))
			other := id
			other.ID, other.NameHash, other.NameVerified = booking.NewID(), randomBytes(32), false
			return newPatient(w.createAccount().ID, other, false, nil), limits
		}, booking.ErrIdentityUnverified},
		{"same identity twice on one account", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			a, id := w.createAccount(), newIdentity(randomBytes(32))
			w.mustAddPatient(newPatient(a.ID, id, false, nil))
			return newPatient(a.ID, id, false, nil), limits
		}, booking.ErrPatientExists},
		{"more than MaxPatients", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			a := w.createAccount()
			for range limits.MaxPatients {
				w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, nil))
			}
			return newPatient(a.ID, newIdentity(randomBytes(32)), false, nil), limits
		}, booking.ErrTooManyPatients},
		{"phone on more than MaxAccountsOnPhone accounts", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			phone := randomBytes(32)
			var first booking.Account
			for i := range limits.MaxAccountsOnPhone {
				a := w.createAccount()
				if i == 0 {
					first = a
				}
				w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, phone))
			}
			// An account already using the phone may use it again.
			w.mustAddPatient(newPatient(first.ID, newIdentity(randomBytes(32)), false, phone))
			return newPatient(w.createAccount().ID, newIdentity(randomBytes(32)), false, phone), limits
		}, booking.ErrPhoneLimit},
		{"identity already the self of another account", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			id := newIdentity(randomBytes(32))
			w.mustAddPatient(newPatient(w.createAccount().ID, id, true, nil))
			b := w.createAccount()
			// As a plain patient of another account it is fine.
			w.mustAddPatient(newPatient(w.createAccount().ID, id, false, nil))
			return newPatient(b.ID, id, true, nil), limits
		}, booking.ErrIdentityTaken},
		{"a second self on one account", func(t *testing.T) (booking.NewPatient, booking.AccountLimits) {
			a := w.createAccount()
			w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), true, nil))
			return newPatient(a.ID, newIdentity(randomBytes(32)), true, nil), limits
		}, booking.ErrSelfExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np, lim := tt.setup(t)
			before := w.count(`SELECT count(*) FROM patients WHERE account_id = $1`, np.AccountID)
			if _, err := w.addPatient(np, lim); !errors.Is(err, tt.want) {
				t.Fatalf("AddPatient = %v, want %v", err, tt.want)
			}
			if _, err := w.st.Patient(w.ctx, np.ID); !errors.Is(err, booking.ErrNotFound) {
				t.Errorf("Patient(refused) = %v, want %v", err, booking.ErrNotFound)
			}
			if after := w.count(`SELECT count(*) FROM patients WHERE account_id = $1`, np.AccountID); after != before {
				t.Errorf("patients of the account = %d, want %d", after, before)
			}
			if n := w.count(`SELECT count(*) FROM booking_events WHERE patient_id = $1`, np.ID); n != 0 {
				t.Errorf("events of the refused patient = %d, want 0", n)
			}
		})
	}
}

func TestAddPatientConcurrentLimit(t *testing.T) {
	const callers, maxPatients = 20, 5
	w := newWorld(t)
	a := w.createAccount()
	lim := booking.AccountLimits{MaxPatients: maxPatients, MaxAccountsOnPhone: 3}
	nps := make([]booking.NewPatient, callers)
	for i := range nps {
		nps[i] = newPatient(a.ID, newIdentity(randomBytes(32)), false, nil)
	}
	errs := make([]error, callers)
	atOnce(callers, func(i int) { _, errs[i] = w.st.AddPatient(w.ctx, nps[i], lim, patientEvent(nps[i])) })
	if ok := succeeded(t, "AddPatient", errs, booking.ErrTooManyPatients); ok != maxPatients {
		t.Errorf("successful adds = %d, want %d", ok, maxPatients)
	}
	ps, err := w.st.Patients(w.ctx, a.ID)
	testenv.Must(t, err, "patients")
	if len(ps) != maxPatients {
		t.Errorf("patients = %d, want %d", len(ps), maxPatients)
	}
	if n := w.count(`SELECT count(*) FROM booking_events WHERE account_id = $1 AND type = 'patient_added'`, a.ID); n != maxPatients {
		t.Errorf("patient_added events = %d, want %d", n, maxPatients)
	}
}

// patientOf is an account with one patient of a new identity.
func (w *world) patientOf() (booking.Account, booking.Patient) {
	w.t.Helper()
	a := w.createAccount()
	return a, w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), true, nil))
}

func (w *world) newBooking(s booking.Session, slotNo int, p booking.Patient) booking.Booking {
	w.t.Helper()
	sl, ok := s.Slot(slotNo)
	if !ok {
		w.t.Fatalf("session %s has no slot %d", s.ID, slotNo)
	}
	return booking.Booking{ID: booking.NewID(), SessionID: s.ID, HospitalID: s.HospitalID,
		DepartmentID: s.DepartmentID, DoctorID: s.DoctorID, VisitDate: s.VisitDate, SlotNo: slotNo,
		SlotStart: sl.StartsAt, SlotEnd: sl.EndsAt, PatientID: p.ID, IdentityID: p.IdentityID,
		IdentityKey: p.IdentityKey, AccountID: p.AccountID, Channel: sl.Channel, Status: booking.StatusConfirmed,
		IdempotencyKey: "key-" + testenv.Token(), CreatedAt: now()}
}

func bookedEvent(b booking.Booking) booking.Event {
	return booking.Event{ID: booking.NewID(), TS: b.CreatedAt, Type: booking.EventBooked, AccountID: b.AccountID,
		PatientID: b.PatientID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel, IP: "192.0.2.1", DeviceID: "dev-1"}
}

func (w *world) insert(b booking.Booking) error {
	return w.st.InsertBooking(w.ctx, b, bookedEvent(b))
}

// sameBooking compares bookings with times in UTC.
func sameBooking(got, want booking.Booking) bool {
	for _, b := range []*booking.Booking{&got, &want} {
		b.SlotStart, b.SlotEnd, b.CreatedAt = b.SlotStart.UTC(), b.SlotEnd.UTC(), b.CreatedAt.UTC()
		if !b.CancelledAt.IsZero() {
			b.CancelledAt = b.CancelledAt.UTC()
		}
	}
	return reflect.DeepEqual(got, want)
}

func ids(bs []booking.Booking) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

func TestBookings(t *testing.T) {
	w := newWorld(t)
	_, px := w.patientOf()
	_, py := w.patientOf()

	b1 := w.newBooking(w.s1, 1, px)
	testenv.Must(t, w.insert(b1), "insert b1")
	b4 := w.newBooking(w.s3, 2, px) // other department, same day
	b4.CreatedAt = b1.CreatedAt.Add(time.Second)
	testenv.Must(t, w.insert(b4), "insert b4")

	t.Run("refusals", func(t *testing.T) {
		dupID := w.newBooking(w.s1, 3, py)
		dupID.ID = b1.ID
		tests := []struct {
			name string
			b    booking.Booking
			want error
		}{
			{"same slot, other patient", w.newBooking(w.s1, 1, py), booking.ErrSlotTaken},
			{"same identity, day and department, other session", w.newBooking(w.s2, 1, px), booking.ErrQuotaDayDept},
			{"same booking id", dupID, booking.ErrInProgress},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				bookings, events := w.count(`SELECT count(*) FROM bookings`), w.count(`SELECT count(*) FROM booking_events`)
				if err := w.insert(tt.b); !errors.Is(err, tt.want) {
					t.Fatalf("InsertBooking = %v, want %v", err, tt.want)
				}
				if n := w.count(`SELECT count(*) FROM bookings`); n != bookings {
					t.Errorf("bookings = %d, want %d", n, bookings)
				}
				if n := w.count(`SELECT count(*) FROM booking_events`); n != events {
					t.Errorf("events = %d, want %d", n, events)
				}
			})
		}
	})

	t.Run("read back", func(t *testing.T) {
		got, err := w.st.Booking(w.ctx, b1.ID)
		testenv.Must(t, err, "booking")
		if !sameBooking(got, b1) {
			t.Errorf("Booking =\n %+v\nwant\n %+v", got, b1)
		}
		list, err := w.st.Bookings(w.ctx, px.AccountID, booking.Page{})
		testenv.Must(t, err, "bookings")
		if got, want := ids(list), []string{b4.ID, b1.ID}; !slices.Equal(got, want) {
			t.Errorf("Bookings = %v, want %v (newest first)", got, want)
		} else if !sameBooking(list[0], b4) {
			t.Errorf("Bookings[0] =\n %+v\nwant\n %+v", list[0], b4)
		}
		if _, err := w.st.Booking(w.ctx, booking.NewID()); !errors.Is(err, booking.ErrBookingNotFound) {
			t.Errorf("Booking(unknown) = %v, want %v", err, booking.ErrBookingNotFound)
		}
	})

	var b2 booking.Booking
	t.Run("cancel frees the slot", func(t *testing.T) {
		ev := booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventCancelled, AccountID: b1.AccountID,
			PatientID: b1.PatientID, BookingID: b1.ID, SessionID: b1.SessionID, HospitalID: b1.HospitalID}
		got, _, err := w.st.CancelBooking(w.ctx, b1.ID, false, booking.DefaultNoShowRules, ev, nil)
		testenv.Must(t, err, "cancel")
		want := b1
		want.Status, want.CancelledAt = booking.StatusCancelled, ev.TS
		if !sameBooking(got, want) {
			t.Errorf("CancelBooking =\n %+v\nwant\n %+v", got, want)
		}
		b2 = w.newBooking(w.s1, 1, py)
		if err := w.insert(b2); err != nil {
			t.Errorf("InsertBooking on the freed slot = %v, want nil", err)
		}
		again := ev
		again.ID = booking.NewID()
		if _, _, err := w.st.CancelBooking(w.ctx, b1.ID, false, booking.DefaultNoShowRules, again, nil); !errors.Is(err, booking.ErrBookingNotActive) {
			t.Errorf("second CancelBooking = %v, want %v", err, booking.ErrBookingNotActive)
		}
		if n := w.count(`SELECT count(*) FROM booking_events WHERE id = $1`, again.ID); n != 0 {
			t.Errorf("events of the refused cancel = %d, want 0", n)
		}
	})

	t.Run("active bookings and statuses", func(t *testing.T) {
		active, err := w.st.ActiveBookings(w.ctx, w.hosp.ID, day(0))
		testenv.Must(t, err, "active bookings")
		got := ids(active)
		slices.Sort(got)
		want := []string{b2.ID, b4.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ActiveBookings = %v, want %v", got, want)
		}
		for _, b := range active {
			if b.ID == b4.ID && !sameBooking(b, b4) {
				t.Errorf("ActiveBookings entry =\n %+v\nwant\n %+v", b, b4)
			}
		}
		if later, err := w.st.ActiveBookings(w.ctx, w.hosp.ID, day(2)); err != nil || len(later) != 0 {
			t.Errorf("ActiveBookings from %s = %v, %v; want none", day(2), ids(later), err)
		}

		// BookedCounts counts the same active bookings per session and
		// channel (b1, cancelled, not), for the sessions asked only.
		wantCounts := map[string]booking.BookedCounts{}
		for _, b := range active {
			c := wantCounts[b.SessionID]
			if c.Bookings == nil {
				c.Bookings = map[booking.Channel]int{}
			}
			c.Bookings[b.Channel]++
			wantCounts[b.SessionID] = c
		}
		counts, err := w.st.BookedCounts(w.ctx, []string{b2.SessionID, b4.SessionID, booking.NewID()})
		testenv.Must(t, err, "booked counts")
		if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Errorf("BookedCounts = %v, want %v", counts, wantCounts)
		}
		if none, err := w.st.BookedCounts(w.ctx, []string{booking.NewID()}); err != nil || len(none) != 0 {
			t.Errorf("BookedCounts of a session without bookings = %v, %v; want none", none, err)
		}

		unknown := booking.NewID()
		st, err := w.st.BookingStatuses(w.ctx, []string{b1.ID, b2.ID, b4.ID, unknown})
		testenv.Must(t, err, "statuses")
		wantSt := map[string]booking.Status{b1.ID: booking.StatusCancelled, b2.ID: booking.StatusConfirmed, b4.ID: booking.StatusConfirmed}
		if !reflect.DeepEqual(st, wantSt) {
			t.Errorf("BookingStatuses = %v, want %v", st, wantSt)
		}
	})

	t.Run("events", func(t *testing.T) {
		for _, c := range []struct {
			booking string
			typ     booking.EventType
			want    int
		}{
			{b1.ID, booking.EventBooked, 1},
			{b1.ID, booking.EventCancelled, 1},
			{b2.ID, booking.EventBooked, 1},
			{b4.ID, booking.EventBooked, 1},
		} {
			if n := w.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = $2`, c.booking, string(c.typ)); n != c.want {
				t.Errorf("%s events of %s = %d, want %d", c.typ, c.booking, n, c.want)
			}
		}
		var ip, device, channel string
		testenv.Must(t, w.db.Pool().QueryRow(w.ctx,
			`SELECT ip, device_id, channel FROM booking_events WHERE booking_id = $1 AND type = 'booked'`, b4.ID).
			Scan(&ip, &device, &channel), "event")
		if got, want := fmt.Sprint(ip, " ", device, " ", channel), "192.0.2.1 dev-1 online"; got != want {
			t.Errorf("event ip, device, channel = %q, want %q", got, want)
		}
	})

	t.Run("audit and standalone events", func(t *testing.T) {
		staff := w.createAccount()
		a := booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorID: staff.ID, ActorRole: booking.RoleClerk,
			Action: "reissue", Target: b2.ID, Reason: "desk"}
		testenv.Must(t, w.st.RecordAudit(w.ctx, a), "record audit")
		var action, target, reason, role string
		var ts time.Time
		testenv.Must(t, w.db.Pool().QueryRow(w.ctx,
			`SELECT actor_role, action, target, reason, ts FROM audit_log WHERE id = $1 AND actor_id = $2`, a.ID, staff.ID).
			Scan(&role, &action, &target, &reason, &ts), "audit row")
		if role != string(a.ActorRole) || action != a.Action || target != a.Target || reason != a.Reason || !ts.Equal(a.TS) {
			t.Errorf("audit row = %s %s %s %s %v, want %+v", role, action, target, reason, ts, a)
		}
		ev := booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventRateLimited, IP: "198.51.100.7"}
		testenv.Must(t, w.st.RecordEvent(w.ctx, ev), "record event")
		if n := w.count(`SELECT count(*) FROM booking_events WHERE id = $1 AND type = 'rate_limited' AND account_id IS NULL`, ev.ID); n != 1 {
			t.Errorf("rate_limited events = %d, want 1", n)
		}
	})
}

// TestAddPatientConcurrentNewIdentity: several accounts add the same new
// identity at once. Under SERIALIZABLE the losers of the identity insert
// are retried and find the winner's row, so all succeed on one row.
func TestAddPatientConcurrentNewIdentity(t *testing.T) {
	const callers = 10
	w := newWorld(t)
	id := newIdentity(randomBytes(32))
	nps := make([]booking.NewPatient, callers)
	for i := range nps {
		mine := id
		mine.ID = booking.NewID()
		nps[i] = newPatient(w.createAccount().ID, mine, false, nil)
	}
	got := make([]booking.Patient, callers)
	errs := make([]error, callers)
	atOnce(callers, func(i int) { got[i], errs[i] = w.st.AddPatient(w.ctx, nps[i], limits, patientEvent(nps[i])) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: AddPatient = %v, want nil", i, err)
		} else if got[i].IdentityID != got[0].IdentityID {
			t.Errorf("caller %d: identity = %s, want the shared %s", i, got[i].IdentityID, got[0].IdentityID)
		}
	}
	if n := w.count(`SELECT count(*) FROM identities WHERE id_hash = $1`, id.IDHash); n != 1 {
		t.Errorf("identity rows = %d, want 1", n)
	}
}

// TestInsertBookingConcurrentSameSlot: SQL's unique index is the final
// guard when Redis has drifted and hands one slot to several bookings.
func TestInsertBookingConcurrentSameSlot(t *testing.T) {
	const callers = 10
	w := newWorld(t)
	bs := make([]booking.Booking, callers)
	for i := range bs {
		_, p := w.patientOf()
		bs[i] = w.newBooking(w.s1, 2, p)
	}
	errs := make([]error, callers)
	atOnce(callers, func(i int) { errs[i] = w.insert(bs[i]) })
	if ok := succeeded(t, "InsertBooking", errs, booking.ErrSlotTaken); ok != 1 {
		t.Errorf("successful inserts = %d, want 1", ok)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND slot_no = 2`, w.s1.ID); n != 1 {
		t.Errorf("bookings of the slot = %d, want 1", n)
	}
}

// TestDatabaseDownIsUnavailable: when the database cannot be reached, the
// store answers booking.ErrUnavailable (a 503: nothing was done), not a bare
// driver error that would become a 500.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	db := testenv.DB(t)
	s := cockroach.NewStore(db)
	db.Close()
	ctx := context.Background()
	checks := map[string]error{
		"Ping":           s.Ping(ctx),
		"Booking":        func() error { _, err := s.Booking(ctx, booking.NewID()); return err }(),
		"Patients":       func() error { _, err := s.Patients(ctx, booking.NewID()); return err }(),
		"AccountByPhone": func() error { _, err := s.AccountByPhone(ctx, []byte("x")); return err }(),
		"RecordEvent":    s.RecordEvent(ctx, booking.Event{ID: booking.NewID(), Type: booking.EventLogin}),
	}
	for name, err := range checks {
		if !errors.Is(err, booking.ErrUnavailable) {
			t.Errorf("%s with the database down = %v, want ErrUnavailable", name, err)
		}
	}
}

// TestServerLogKeepsNoKeyValues: the local PostgreSQL (deploy/local/services.sh)
// logs errors tersely. With the default verbosity a refused duplicate writes a
// DETAIL line naming the key, and the accounts' and identities' unique keys are
// keyed hashes of phones and ID numbers: the server log would keep them after
// the retention erased them from the tables (review21 L3). The replicated
// stack sets the same in deploy/cluster/cluster.sh.
func TestServerLogKeepsNoKeyValues(t *testing.T) {
	db := testenv.DB(t)
	if db.Flavor() == cockroach.Cockroach {
		t.Skip("CockroachDB marks the values in its logs for redaction itself")
	}
	var verbosity string
	testenv.Must(t, db.Pool().QueryRow(t.Context(), `SHOW log_error_verbosity`).Scan(&verbosity), "show log_error_verbosity")
	if verbosity != "terse" {
		t.Fatalf("log_error_verbosity = %q, want terse: a refused duplicate's DETAIL would log a keyed phone or ID hash", verbosity)
	}
}

// TestAddHospitalNameTaken (review21b): a hospital whose name another has,
// whatever its case, is refused hospital_exists by the store itself, in
// the transaction, before anything is written — a caller's catalog that
// did not hold the first (another host's `hospital add` since it loaded)
// let a second through — and of several adds of one name at once, one
// succeeds.
func TestAddHospitalNameTaken(t *testing.T) {
	w := newWorld(t)
	add := func(name string) error {
		h := booking.Hospital{ID: booking.NewID(), Name: name, TimeZone: "Asia/Shanghai", CancelDeadline: "15:00", Policy: booking.DefaultPolicy}
		return w.st.AddHospital(w.ctx, h, booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorRole: "cli", Action: "hospital_added",
			Target: "hospital:" + h.ID, HospitalID: h.ID})
	}
	taken := strings.ToUpper(w.hosp.Name)
	err := add(taken)
	if !errors.Is(err, booking.ErrHospitalExists) || !strings.Contains(err.Error(), w.hosp.ID) {
		t.Errorf("a hospital named %q beside %q = %v, want hospital_exists naming the first", taken, w.hosp.Name, err)
	}
	name := "Concurrent " + testenv.Token()
	errs := make([]error, 4)
	atOnce(len(errs), func(i int) { errs[i] = add(name) })
	if n := succeeded(t, "add hospital", errs, booking.ErrHospitalExists); n != 1 {
		t.Errorf("%d of 4 concurrent adds of one name succeeded, want 1", n)
	}
	if n := w.count(`SELECT count(*) FROM hospitals WHERE lower(name) IN (lower($1), lower($2))`, w.hosp.Name, name); n != 2 {
		t.Errorf("%d hospitals of the two names, want 2", n)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'hospital_added' AND hospital_id IN (SELECT id FROM hospitals WHERE lower(name) = lower($1))`, name); n != 1 {
		t.Errorf("%d hospital_added rows of the concurrent name's hospital, want 1", n)
	}
}
