package admission

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBarSaysItsEndInTheHospitalsZone: patient_barred's "may not book until
// …" is in the hospital's zone (the Reservation's Location), as every
// other time a patient reads, not a hard-coded +08:00 (review19a L3).
func TestBarSaysItsEndInTheHospitalsZone(t *testing.T) {
	f := newFixture(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	testenv.Must(t, err, "load Asia/Tokyo")
	person := newIdentityKey()
	s := f.session(futureMonday(), "dermatology", online(2, time.Now().Add(-time.Hour)))
	until := time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)
	testenv.Must(t, f.g.Bar(t.Context(), []string{f.hosp}, person, until), "bar the person")
	r := f.reservation(s, person)
	r.Location = tokyo
	_, _, err = f.g.Reserve(f.ctx, r)
	e, ok := booking.AsError(err)
	if !ok || e.Code != booking.ErrPatientBarred.Code {
		t.Fatalf("reserve of a barred person = %v, want patient_barred", err)
	}
	if want := until.In(tokyo).Format(time.RFC3339); !strings.HasSuffix(e.Message, want) {
		t.Errorf("the bar's message = %q, want it to end with the bar's end in the hospital's zone, %s", e.Message, want)
	}
}
