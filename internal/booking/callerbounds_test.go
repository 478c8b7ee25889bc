package booking_test

import (
	"errors"
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestPhoneCallerPersonsBound (review23 H1, H3): staff book, enter and
// waitlist at most a family's persons a day on calls from one number — the
// sixth new person is refused caller_persons_limit, across bookings, draw
// entries and waitlist places alike — while the same persons again, and
// another number, pass. Every staff booking, entry and place is audited
// with the caller masked and tagged, never in clear, one tag per number.
func TestPhoneCallerPersonsBound(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	op := h.staff(booking.RoleOperator)
	wide := h.session(sessionOpts{phone: 20})
	draw := h.lotterySession(lotteryOpts{dept: "Neurology", period: "afternoon", online: 2, phone: 2})
	const insider, other = "13600000001", "13600000002"

	for i := range 4 {
		p := h.person("张" + string(rune('一'+i)))
		_, err := h.staffBook(op, p, wide, booking.ChannelPhone, insider)
		testenv.Must(t, err, "phone booking %d from one number", i+1)
	}
	// The fifth person is entered in a draw from the same number: a
	// household's fifth person, still within a family.
	fifth := h.person("张五")
	r, err := h.svc.AttemptFor(h.ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: fifth, SessionID: draw.ID,
		Channel: booking.ChannelPhone, CallerPhone: insider})
	testenv.Must(t, err, "the fifth person entered in a phone draw")
	if !r.Entered {
		t.Fatalf("AttemptFor on a phone draw booked %s; want an entry", r.Booking.ID)
	}
	db.wantCount("the entry's audit row naming the caller masked", 1, `SELECT count(*) FROM audit_log
		WHERE action = 'phone_lottery_entry' AND actor_id = $1 AND target = $2 AND reason LIKE '%136****0001 #%'`,
		op.AccountID, "lottery_entry:"+r.Entry.ID)

	// A sixth new person from that number, by any way, is refused.
	sixth := h.person("张六")
	_, err = h.staffBook(op, sixth, wide, booking.ChannelPhone, insider)
	wantErr(t, "a sixth person booked from one number", err, booking.ErrCallerPersonsLimit)
	_, err = h.svc.AttemptFor(h.ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: sixth, SessionID: draw.ID,
		Channel: booking.ChannelPhone, CallerPhone: insider})
	wantErr(t, "a sixth person entered from one number", err, booking.ErrCallerPersonsLimit)

	// The same household again (its fifth person booked, not only entered)
	// and another number pass.
	_, err = h.staffBook(op, fifth, wide, booking.ChannelPhone, insider)
	testenv.Must(t, err, "the household's fifth person booked as well")
	_, err = h.staffBook(op, sixth, wide, booking.ChannelPhone, other)
	testenv.Must(t, err, "the sixth person from their own number")

	db.wantCount("phone bookings audited with the insider number masked and tagged", 5, `SELECT count(*) FROM audit_log
		WHERE action = 'phone_booking' AND actor_id = $1 AND reason LIKE '%caller 136****0001 #%'`, op.AccountID)
	db.wantCount("audit rows holding a caller number in clear", 0, `SELECT count(*) FROM audit_log
		WHERE reason LIKE '%13600000001%' OR reason LIKE '%13600000002%'`)
	var tags []string
	rows, err := db.pool.Query(h.ctx, `SELECT DISTINCT split_part(reason, '#', 2) FROM audit_log
		WHERE action IN ('phone_booking', 'phone_lottery_entry') AND actor_id = $1`, op.AccountID)
	testenv.Must(t, err, "read the caller tags")
	for rows.Next() {
		var tag string
		testenv.Must(t, rows.Scan(&tag), "scan a tag")
		tags = append(tags, tag)
	}
	testenv.Must(t, rows.Err(), "read the caller tags")
	if len(tags) != 2 || strings.TrimSpace(tags[0]) == "" || strings.TrimSpace(tags[1]) == "" {
		t.Errorf("caller tags in the audit = %q; want two, one per number", tags)
	}
}

// TestOperatorPaceBound (review23 H1): an operator past the configured
// bookings, entries and waitlist places of an hour is refused
// operator_pace_limit (429), whatever number and person; another operator
// is not.
func TestOperatorPaceBound(t *testing.T) {
	h := newHarness(t, harnessConfig{operatorActsPerHour: 3})
	s := h.session(sessionOpts{phone: 10})
	op, colleague := h.staff(booking.RoleOperator), h.staff(booking.RoleOperator)
	for i, phone := range []string{"13600000011", "13600000012", "13600000013"} {
		_, err := h.staffBook(op, h.person("李"+string(rune('一'+i))), s, booking.ChannelPhone, phone)
		testenv.Must(t, err, "phone booking %d of the hour", i+1)
	}
	_, err := h.staffBook(op, h.person("李四"), s, booking.ChannelPhone, "13600000014")
	wantErr(t, "the operator's fourth booking of the hour", err, booking.ErrOperatorPaceLimit)
	if le := (*booking.LimitError)(nil); !errors.As(err, &le) {
		t.Errorf("the pace refusal = %v; want a *LimitError (429 with Retry-After)", err)
	}
	_, err = h.staffBook(colleague, h.person("李五"), s, booking.ChannelPhone, "13600000015")
	testenv.Must(t, err, "another operator's booking")
}
