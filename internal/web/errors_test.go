package web

import (
	"os"
	"regexp"
	"testing"
)

// staffOnlyCodes are the domain's error codes no patient page can get: the
// API's own, and refusals of a staff console's forms (which show the
// domain's English message, and a Chinese line where there is one).
var staffOnlyCodes = map[string]bool{
	"body_too_large": true, "invalid_json": true, "invalid_cursor": true, "invalid_channel": true, // the API's
	"callback_done": true, "callback_not_found": true, "caller_phone_unknown": true, // the call centre and the desk
	"department_exists": true, "department_in_use": true, "department_not_found": true, "department_retired": true,
	"doctor_has_sessions": true, "doctor_retired": true, "extra_slots_limit": true, "no_change": true,
	"quota_mismatch": true, "session_released": true, "substitute_lottery": true, "substitute_not_same_level": true,
	"template_not_found": true, "doctor_not_found": true, "session_overlap": true, "release_after_start": true,
	"onsite_share_short": true, "session_in_past": true, "session_too_far": true, // the administrator's
}

// TestEveryPatientCodeHasChinese: every error code of the domain that a
// patient page can show has a Chinese line (zhMessages) — already_entered,
// entry_closed, offer_closed, session_stopped and beyond_booking_window
// showed a patient the English message only. A new code is either given
// one or named staff-only above.
func TestEveryPatientCodeHasChinese(t *testing.T) {
	src, err := os.ReadFile("../booking/errors.go")
	if err != nil {
		t.Fatalf("read the domain's errors: %v", err)
	}
	codes := regexp.MustCompile(`newErr\(Kind[A-Za-z]+, "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 50 {
		t.Fatalf("found %d error codes in the domain, want them all", len(codes))
	}
	for _, m := range codes {
		if code := m[1]; !staffOnlyCodes[code] && zhMessage(code) == "" {
			t.Errorf("code %s has no Chinese message", code)
		}
	}
}
