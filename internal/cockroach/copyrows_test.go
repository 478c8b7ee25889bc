package cockroach_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// everyEvent is an event with every field RecordEvents stores set, then
// each of them alone, then the ids a client may send that are not UUIDs
// (stored as NULL), upper case, and texts of every kind.
func everyEvent() []booking.Event {
	full := booking.Event{TS: time.Date(2026, 12, 5, 10, 0, 0, 123456789, time.UTC), Type: booking.EventRejected,
		AccountID: booking.NewID(), PatientID: booking.NewID(), IdentityID: booking.NewID(), BookingID: booking.NewID(),
		SessionID: booking.NewID(), HospitalID: booking.NewID(), DepartmentID: booking.NewID(), DoctorID: booking.NewID(),
		Channel: booking.ChannelOnline, IP: "203.0.113.7", DeviceID: "device-1", Phone: "138****0000",
		ReleaseAt: time.Date(2026, 12, 5, 8, 0, 0, 0, testenv.Shanghai), Reason: "sold_out", StaffID: booking.NewID(),
		ByAccountID: booking.NewID(), MadeByOtherAccount: true, CardSource: "typed"}
	evs := []booking.Event{full}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "ID" || name == "TS" || name == "Type" || v.Field(i).IsZero() {
			continue
		}
		alone := booking.Event{TS: full.TS, Type: booking.EventRateLimited}
		reflect.ValueOf(&alone).Elem().Field(i).Set(v.Field(i))
		evs = append(evs, alone)
	}
	id := booking.NewID()
	for _, odd := range []string{"not-a-uuid", strings.ReplaceAll(id, "-", ""), strings.ReplaceAll(id, "-", "_"),
		strings.ToUpper(id), id[:35] + "g", "x" + id[1:], id[:8] + "-" + id[9:]} {
		evs = append(evs, booking.Event{TS: full.TS, Type: booking.EventRejected, AccountID: odd, SessionID: odd, ByAccountID: odd,
			IP: "2001:db8::1", DeviceID: "设备", Phone: "", Reason: strings.Repeat("r", 300)})
	}
	return evs
}

// RecordEvents' COPY (eventRows, values without allocations) stores the
// same rows as the code before it (a fresh []any of boxed values a row):
// each event is written both ways and the two rows compared column by
// column (less the id).
func TestRecordEventsStoresEveryField(t *testing.T) {
	ctx := t.Context()
	db := testenv.DB(t)
	st := cockroach.NewStore(db)
	evs := everyEvent()
	before := make([]booking.Event, len(evs))
	for i := range evs {
		evs[i].ID = booking.NewID()
		before[i] = evs[i]
		before[i].ID = booking.NewID()
	}
	testenv.Must(t, st.RecordEvents(ctx, evs), "record events")
	testenv.Must(t, cockroach.RecordEventsAsBefore(ctx, st, before), "record events as before")
	const cols = `ts, type, account_id, patient_id, booking_id, session_id, hospital_id, department_id, doctor_id,
		channel, ip, device_id, phone, release_at, reason, staff_id, identity_id, made_by_other_account, by_account_id, card_source`
	row := func(id string) []any {
		rows, err := db.Pool().Query(ctx, `SELECT `+cols+` FROM booking_events WHERE id = $1`, id)
		testenv.Must(t, err, "read %s", id)
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("event %s not stored (%v)", id, rows.Err())
		}
		v, err := rows.Values()
		testenv.Must(t, err, "values of %s", id)
		return v
	}
	for i := range evs {
		if got, want := row(evs[i].ID), row(before[i].ID); !reflect.DeepEqual(got, want) {
			t.Errorf("event %d (%+v):\ngot  %v\nwant %v", i, evs[i], got, want)
		}
	}
	// Not NULL where set: the comparison is not between two empty rows.
	var nulls int
	for _, v := range row(evs[0].ID) {
		if v == nil {
			nulls++
		}
	}
	if nulls != 0 {
		t.Errorf("the event with every field set has %d NULL columns, want 0", nulls)
	}
}

// A row of RecordEvents' COPY allocates nothing: the refusal writer sends
// up to RefusalRate (2,000) of them a second in the release minute.
func TestRecordEventsRowAllocatesNothing(t *testing.T) {
	for i, ev := range everyEvent() {
		now, before := cockroach.EventRowAllocs(ev, 100)
		if now != 0 {
			t.Errorf("event %d: %v allocations a row, want 0 (before eventRows: %v)", i, now, before)
		}
		if i == 0 {
			t.Logf("every field set: %v allocations a row, %v before eventRows", now, before)
		}
	}
}
