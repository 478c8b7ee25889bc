package cockroach

import (
	"github.com/jackc/pgx/v5/pgtype"

	"fairslot/internal/booking"
)

// scanUUID is pgtype.UUID.Scan of a string without its two allocations
// (the dashes cut out by concatenation, then hex.DecodeString): it takes
// what Scan takes — 36 characters with any byte at the four dash places,
// or 32, the rest hex digits of either case — and gives the same bytes;
// ok is false where Scan fails. The batch statements and the refusal
// writer's COPY parse every id they send (TestScanUUIDIsScan).
func scanUUID(s string) (u pgtype.UUID, ok bool) {
	if len(s) != 36 && len(s) != 32 {
		return pgtype.UUID{}, false
	}
	at := 0
	for i := range u.Bytes {
		if len(s) == 36 && (at == 8 || at == 13 || at == 18 || at == 23) {
			at++
		}
		hi, ok1 := unhex(s[at])
		lo, ok2 := unhex(s[at+1])
		if !ok1 || !ok2 {
			return pgtype.UUID{}, false
		}
		u.Bytes[i] = hi<<4 | lo
		at += 2
	}
	u.Valid = true
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// eventColumns are booking_events' columns in the order of eventRows'
// values.
var eventColumns = [...]string{"id", "ts", "type", "account_id", "patient_id", "booking_id", "session_id",
	"hospital_id", "department_id", "doctor_id", "channel", "ip", "device_id", "phone", "release_at", "reason",
	"staff_id", "identity_id", "made_by_other_account", "by_account_id", "card_source"}

// eventRows is RecordEvents' batch as a pgx.CopyFromSource that allocates
// nothing a row. pgx encodes a row's values before it asks for the next
// (copyFrom.buildCopyBuf), so one row of values is reused: its ids parsed
// into uuids, its texts and times into pgtype values, each handed to pgx as
// a pointer — a pointer in an interface is no allocation, where a string, a
// time.Time or a pgtype.UUID is one. As a fresh []any of boxed values a
// refused attempt's event cost 49 allocations (the ids' parsing included),
// ~4 per attempt of the release minute at its 2,000 events a second
// (docs/performance.md, "allocation by allocation"); PostgreSQL gets the
// same rows (TestRecordEventsStoresEveryField).
type eventRows struct {
	evs []booking.Event
	i   int
	row [len(eventColumns)]any
	// a row's values; nu and nt count those taken
	uuids   [11]pgtype.UUID
	texts   [7]pgtype.Text
	ts      pgtype.Timestamptz
	release pgtype.Timestamptz
	nu, nt  int
}

func (r *eventRows) Next() bool {
	r.i++
	return r.i <= len(r.evs)
}

func (r *eventRows) Err() error { return nil }

func (r *eventRows) Values() ([]any, error) {
	ev := &r.evs[r.i-1]
	r.nu, r.nt = 0, 0
	r.ts = pgtype.Timestamptz{Time: ev.TS, Valid: true}
	var release, byOther, card any // NULL unless set
	if !ev.ReleaseAt.IsZero() {
		r.release = pgtype.Timestamptz{Time: ev.ReleaseAt, Valid: true}
		release = &r.release
	}
	if ev.MadeByOtherAccount {
		byOther = true
	}
	if ev.CardSource != "" {
		card = r.text(ev.CardSource)
	}
	r.row = [...]any{r.id(ev.ID), &r.ts, r.text(string(ev.Type)), r.id(ev.AccountID), r.id(ev.PatientID),
		r.id(ev.BookingID), r.id(ev.SessionID), r.id(ev.HospitalID), r.id(ev.DepartmentID),
		r.id(ev.DoctorID), r.text(string(ev.Channel)), r.text(ev.IP), r.text(ev.DeviceID), r.text(ev.Phone), release, r.text(ev.Reason),
		r.id(ev.StaffID), r.id(ev.IdentityID), byOther, r.id(ev.ByAccountID), card}
	return r.row[:], nil
}

// id is s as a uuid column's value: NULL for "" and for what is not a
// UUID (booking.IsUUID: the canonical form).
func (r *eventRows) id(s string) any {
	if !booking.IsUUID(s) {
		return nil
	}
	u, ok := scanUUID(s)
	if !ok {
		return nil
	}
	r.uuids[r.nu] = u
	r.nu++
	return &r.uuids[r.nu-1]
}

// text is s as a text column's value.
func (r *eventRows) text(s string) any {
	r.texts[r.nt] = pgtype.Text{String: s, Valid: true}
	r.nt++
	return &r.texts[r.nt-1]
}
