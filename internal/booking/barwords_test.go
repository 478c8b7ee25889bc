package booking_test

import (
	"errors"
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBarredRefusalSaysTheSameOnEveryChannel (session 23): since session
// 22 patient_barred online says what barred the person — a review's bar
// until when and how to contest it — but the waitlist joins (online and by
// phone) answered the bare code, and a no-show bar said only "may not book
// until" and a time, on every channel. One wording now answers everywhere:
// a review's bar its end and the appeal; a no-show bar the missed
// appointments and its end.
func TestBarredRefusalSaysTheSameOnEveryChannel(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	missed := []*booking.Session{
		h.deskSession(deskOpts{day: 0, dept: "Ophthalmology", online: 2}),
		h.deskSession(deskOpts{day: 0, dept: "Dentistry", online: 2}),
		h.deskSession(deskOpts{day: 1, dept: "Ophthalmology", online: 2}),
	}
	open := h.deskSession(deskOpts{day: 3, online: 2, phone: 2, onsite: 2})
	full := h.deskSession(deskOpts{day: 3, dept: "Surgery", online: 1, phone: 1})
	op, clerk, admin := h.staff(booking.RoleOperator), h.staff(booking.RoleClerk), h.staff(booking.RoleAdmin)
	h.mustBook(h.user(1), 0, full, "")
	if _, err := h.staffBook(op, h.person("钱多"), full, booking.ChannelPhone, "138 0000 1111"); err != nil {
		t.Fatalf("sell the phone pool out: %v", err)
	}

	// A person a review bars, listed on an account outside the group too.
	reviewed := h.person("孙丽")
	scalper, outsider := h.userOf(h.person("周强"), reviewed), h.userOf(h.person("吴敏"), reviewed)
	_, err := h.sql().pool.Exec(h.ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_words', 2, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT]), now(), now())`,
		scalper.actor.AccountID, outsider.patients[1].IdentityID)
	testenv.Must(t, err, "write the flag")
	if _, err := h.svc.DecideFlag(h.ctx, admin, "flg_words", booking.Decision{Action: "confirm", Note: "resold slots",
		AlsoBar: []string{outsider.patients[1].IdentityID}}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	// A person barred for no-shows.
	absent := h.person("郑伟")
	noShow := h.userOf(absent)
	h.barByNoShows(noShow, missed...)
	defer h.clock.reset()

	message := func(what string, err error) string {
		t.Helper()
		var e *booking.Error
		if !errors.Is(err, booking.ErrPatientBarred) || !errors.As(err, &e) {
			t.Errorf("%s: %v, want patient_barred", what, err)
			return ""
		}
		return e.Message
	}
	for _, tt := range []struct {
		kind    string
		u       user
		patient int
		who     booking.IdentityRequest
		says    []string
	}{
		{"a review's bar", outsider, 1, reviewed, []string{"申诉", "appeal", "not for missed appointments"}},
		{"a no-show bar", noShow, 0, absent, []string{"爽约", "missed 3 appointments", "ends by itself"}},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			got := map[string]string{}
			_, err := h.svc.Attempt(h.ctx, tt.u.actor, booking.BookRequest{SessionID: open.ID, PatientID: tt.u.patients[tt.patient].ID, Channel: booking.ChannelOnline})
			got["online booking"] = message("online booking", err)
			_, err = h.svc.JoinWaitlist(h.ctx, tt.u.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: tt.u.patients[tt.patient].ID})
			got["online waitlist"] = message("online waitlist", err)
			_, err = h.staffBook(op, tt.who, open, booking.ChannelPhone, "138 0000 2222")
			got["phone booking"] = message("phone booking", err)
			_, err = h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: tt.who, SessionID: full.ID, CallerPhone: "138 0000 2222"})
			got["phone waitlist"] = message("phone waitlist", err)
			_, err = h.staffBook(clerk, tt.who, open, booking.ChannelOnsite, "")
			got["desk booking"] = message("desk booking", err)
			want := got["online booking"]
			for _, s := range tt.says {
				if !strings.Contains(want, s) {
					t.Errorf("online, %s says %q; want it to say %q", tt.kind, want, s)
				}
			}
			for where, m := range got {
				if m != want {
					t.Errorf("%s, %s says %q; online says %q", where, tt.kind, m, want)
				}
			}
		})
	}
}
