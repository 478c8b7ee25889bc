package web

import (
	"os"
	"regexp"
	"testing"
)

// apiOnlyCodes are the domain's error codes no console page can get: the
// API's own (a console's forms never send them).
var apiOnlyCodes = map[string]bool{
	"body_too_large": true, "invalid_json": true, "invalid_cursor": true, "invalid_channel": true,
}

// TestEveryCodeHasChinese: every error code of the domain that a console
// page can show has a Chinese line (zhMessages) — already_entered,
// entry_closed, offer_closed, session_stopped and beyond_booking_window
// showed a patient the English message only, and the administrator's
// 号源 refusals (session_overlap, doctor_has_sessions, …) showed staff
// English only (review19b M8). A new code is either given one or named
// API-only above.
func TestEveryCodeHasChinese(t *testing.T) {
	src, err := os.ReadFile("../booking/errors.go")
	if err != nil {
		t.Fatalf("read the domain's errors: %v", err)
	}
	codes := regexp.MustCompile(`newErr\(Kind[A-Za-z]+, "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 50 {
		t.Fatalf("found %d error codes in the domain, want them all", len(codes))
	}
	for _, m := range codes {
		if code := m[1]; !apiOnlyCodes[code] && zhMessage(code) == "" {
			t.Errorf("code %s has no Chinese message", code)
		}
	}
}
