package booking_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cardreader"
	"fairslot/internal/testenv"
)

// TestOnlyAReadVerifiesAName is review25 H1 and L1 over the real stores: a
// walk-in or a check-in on a typed number (a reason given, or no card
// marker at all, as an older console sends) verifies no name and its audit
// row says the number was typed and why, never "ID card matched"; a
// passport typed as having no chip verifies (nothing to read); a
// registered reader's signed read verifies and is named in the row; a read
// with a wrong signature, or an old one, is refused. Events carry the
// source for the detector.
func TestOnlyAReadVerifiesAName(t *testing.T) {
	h := newHarness(t, harnessConfig{onlyReadsVerify: true})
	s := h.deskSession(deskOpts{onsite: 8})
	clerk := h.staff(booking.RoleClerk)
	admin := h.staffOf(booking.RoleAdmin, s.HospitalID)
	reg, err := h.svc.RegisterCardReader(h.ctx, admin, "门诊一楼 3 号窗口")
	testenv.Must(t, err, "register a card reader")
	key, _ := hex.DecodeString(reg.Key)
	read := func(who booking.IdentityRequest, at time.Time) booking.IdentityRequest {
		return signedRead(key, reg.ID, who, at)
	}
	typed := func(who booking.IdentityRequest, reason string) booking.IdentityRequest {
		who.Card = booking.CardRead{Source: booking.CardTyped, TypedReason: reason}
		return who
	}
	verified := func(who booking.IdentityRequest) bool {
		return h.count(`SELECT count(*) FROM identities WHERE id_hash = $1 AND name_verified_at IS NOT NULL`, h.idHash(who)) == 1
	}
	defer h.onVisitDay(s)()

	for _, tc := range []struct {
		name       string
		who        booking.IdentityRequest
		verifies   bool
		source, is string // the event's card_source, what the check-in's row says
	}{
		{"typed, the reader broken", typed(h.person("赵一"), booking.CardReaderBroken), false, "typed", "number typed by the clerk, reason reader_broken"},
		{"no card marker (an older console)", h.person("钱二"), false, "typed", "number typed by the clerk, reason unspecified"},
		{"a passport with no chip", typed(h.passport("John Smith"), booking.CardNoChip), true, "typed", "number typed by the clerk, reason no_chip"},
		{"read by the reader", read(h.person("孙三"), h.clockNow()), true, "reader", "card read by reader 门诊一楼 3 号窗口 (" + reg.ID + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := h.mustWalkIn(clerk, tc.who, s)
			if got := verified(tc.who); got != tc.verifies {
				t.Errorf("after the walk-in the name is verified = %v, want %v", got, tc.verifies)
			}
			if tc.who.Card.Source == booking.CardFromReader {
				tc.who = read(tc.who, h.clockNow()) // read again at the check-in
			}
			if _, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{IdentityRequest: tc.who, BookingID: b.ID}); err != nil {
				t.Fatalf("check in: %v", err)
			}
			if got := verified(tc.who); got != tc.verifies {
				t.Errorf("after the check-in the name is verified = %v, want %v", got, tc.verifies)
			}
			if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin' AND target = 'booking:' || $1 AND strpos(reason, $2) > 0
				AND strpos(reason, 'matched') = 0`, b.ID, tc.is); n != 1 {
				t.Errorf("check-in rows saying %q, never matched = %d, want 1", tc.is, n)
			}
			if n := h.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type IN ('booked', 'checked_in') AND card_source = $2`, b.ID, tc.source); n != 2 {
				t.Errorf("booked and checked_in events with card_source %s = %d, want 2", tc.source, n)
			}
		})
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE strpos(reason, 'ID card matched') > 0 OR strpos(reason, 'name read from the ID card') > 0`); n != 0 {
		t.Errorf("rows asserting a card read that may not have happened = %d, want 0", n)
	}

	for _, tc := range []struct {
		name  string
		who   booking.IdentityRequest
		code  string
		field string
	}{
		{"no_chip for a resident ID card", typed(h.person("李四"), booking.CardNoChip), "invalid_field", "card.typed_reason"},
		{"other without words", typed(h.person("李四"), booking.CardOther), "invalid_field", "card.typed_text"},
		{"an unknown reason", typed(h.person("李四"), "lost_it"), "invalid_field", "card.typed_reason"},
		{"another name under the read", func() booking.IdentityRequest {
			w := read(h.person("周五"), h.clockNow())
			w.Name = "买家甲"
			return w
		}(), "card_read_invalid", ""},
		{"a read of ten minutes ago", read(h.person("周五"), h.clockNow().Add(-10*time.Minute)), "card_read_stale", ""},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := h.staffBook(clerk, tc.who, s, booking.ChannelOnsite, "")
			var e *booking.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Field != tc.field {
				t.Errorf("walk-in: %v, want %s (field %q)", err, tc.code, tc.field)
			}
			if verified(tc.who) || strings.Contains(err.Error(), tc.who.IDNumber) {
				t.Errorf("a refused walk-in verified the name, or its error names the number")
			}
		})
	}
}

// readBy is who's card on a reader of the clerk's hospital, read now (by
// the harness's clock): a reader registered for it by a new administrator.
func (h *harness) readBy(clerk booking.Actor, who booking.IdentityRequest) booking.IdentityRequest {
	h.t.Helper()
	reg, err := h.svc.RegisterCardReader(h.ctx, h.staffOf(booking.RoleAdmin, clerk.HospitalID), "desk reader")
	testenv.Must(h.t, err, "register a card reader")
	key, _ := hex.DecodeString(reg.Key)
	return signedRead(key, reg.ID, who, h.clockNow())
}

// signedRead is who with the card marker of a read at at, signed as the
// reader's driver signs it.
func signedRead(key []byte, readerID string, who booking.IdentityRequest, at time.Time) booking.IdentityRequest {
	mac := cardreader.HMAC{}.Sign(key, booking.SignedRead{IDType: who.IDType, IDNumber: who.IDNumber, Name: who.Name, ReadAt: at})
	who.Card = booking.CardRead{Source: booking.CardFromReader, ReaderID: readerID, ReadAt: at, MAC: hex.EncodeToString(mac)}
	return who
}

// TestTypedLoginMoveTakesEffectWhenDue: a desk login move on a typed number
// that its holder did not cancel takes effect when its cooling-off is over
// (the job "pending login moves"): the login is the new number's, the
// old one's tokens end, the desk's code sets the password; before it is
// due the job moves nothing.
func TestTypedLoginMoveTakesEffectWhenDue(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	holder := h.person("刘波")
	h.account(h.phone(), booking.Origin{}, holder)
	newPhone := h.phone()
	holder.Card = booking.CardRead{Source: booking.CardTyped, TypedReason: booking.CardReaderBroken}
	m, err := h.svc.MoveLoginBack(h.ctx, clerk, booking.MoveLoginRequest{IdentityRequest: holder, NewPhone: newPhone, NumberRung: true})
	testenv.Must(t, err, "a typed login move")
	if !m.Pending {
		t.Fatalf("a typed move answered %+v, want pending", m)
	}
	n, err := h.svc.CompleteLoginMoves(h.ctx)
	if err != nil || n != 0 {
		t.Errorf("the job before the move is due moved %d (%v), want 0", n, err)
	}
	if _, err := h.svc.RedeemResetCode(h.ctx, newPhone, m.Reset.Code, "the-holders-new-one", booking.Origin{}); err == nil {
		t.Errorf("the code redeemed before the move took effect")
	}
	defer h.clock.at(time.Now().Add(25 * time.Hour))()
	n, err = h.svc.CompleteLoginMoves(h.ctx)
	if err != nil || n != 1 {
		t.Fatalf("the job once due moved %d (%v), want 1", n, err)
	}
	if _, err := h.svc.RedeemResetCode(h.ctx, newPhone, m.Reset.Code, "the-holders-new-one", booking.Origin{}); err != nil {
		t.Errorf("the holder redeems the desk's code with the new number once moved: %v", err)
	}
	if k := h.count(`SELECT count(*) FROM audit_log WHERE action = 'account_login_moved' AND target = 'account:' || $1
		AND strpos(reason, 'number typed by the clerk, reason reader_broken') > 0`, m.AccountID); k != 1 {
		t.Errorf("account_login_moved rows of the completed move saying it was typed = %d, want 1", k)
	}
	if k := h.count(`SELECT count(*) FROM pending_login_moves WHERE account_id = $1`, m.AccountID); k != 0 {
		t.Errorf("pending rows left after the move = %d, want 0", k)
	}
}
