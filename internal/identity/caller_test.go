package identity

import (
	"errors"
	"testing"
)

// TestNormalizeCallerPhone: a caller rings from a mobile or a landline with
// its area code (review23 M1); separators go, an extension is kept apart
// from the line, and anything else is invalid_phone.
func TestNormalizeCallerPhone(t *testing.T) {
	good := []struct {
		in, want, line string
		landline       bool
	}{
		{"13800138000", "13800138000", "13800138000", false},
		{"+86 138 0013 8000", "13800138000", "13800138000", false},
		{"010-65123456", "01065123456", "01065123456", true},
		{"(010) 6512 3456", "01065123456", "01065123456", true},
		{"（010）65123456", "01065123456", "01065123456", true},
		{"0755 8888 1234", "075588881234", "075588881234", true},
		{"075588881234", "075588881234", "075588881234", true},
		{"0571-8765432", "05718765432", "05718765432", true},
		{"020-87654321", "02087654321", "02087654321", true},
		{"+86 10 6512 3456", "01065123456", "01065123456", true},
		{"010-65123456-8001", "01065123456-8001", "01065123456", true},
		{"010-65123456 转 8001", "01065123456-8001", "01065123456", true},
		{"0755 8888 1234 分机 12", "075588881234-12", "075588881234", true},
		{"010 65123456 ext. 801", "01065123456-801", "01065123456", true},
		{"0571-8765432-33", "05718765432-33", "05718765432", true},
	}
	for _, g := range good {
		t.Run(g.in, func(t *testing.T) {
			got, err := NormalizeCallerPhone(g.in)
			if err != nil || got != g.want {
				t.Fatalf("NormalizeCallerPhone(%q) = %q, %v; want %q", g.in, got, err, g.want)
			}
			if l := CallerLine(got); l != g.line {
				t.Errorf("CallerLine(%q) = %q, want %q", got, l, g.line)
			}
			if IsLandline(got) != g.landline {
				t.Errorf("IsLandline(%q) = %v", got, IsLandline(got))
			}
		})
	}
	bad := []string{
		"", "12", "65123456", // no area code
		"010-1234567",            // a local number never starts with 0 or 1
		"010-123456",             // too short
		"010-651234567",          // too long for 010
		"000-12345678",           // no such area code
		"0010-12345678",          // nor this
		"0755-888812345",         // 9 digits
		"010-65123456 转 1234567", // extension of 7 digits
		"010-65123456 转",         // an extension marker with nothing after
		"010-65123456abc",
		"010/65123456",
		"1380013800",         // a mobile one digit short
		"23800138000",        // not a mobile
		"+86 0755 8888 1234", // the trunk 0 after +86
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := NormalizeCallerPhone(in)
			if !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("NormalizeCallerPhone(%q) = %q, %v; want ErrInvalidPhone", in, got, err)
			}
		})
	}
	// An account's phone stays a mobile.
	if _, err := NormalizePhone("010-65123456"); !errors.Is(err, ErrInvalidPhone) {
		t.Errorf("NormalizePhone of a landline: %v, want ErrInvalidPhone", err)
	}
	if got, want := MaskPhone(CallerLine("075588881234-12")), "075*****1234"; got != want {
		t.Errorf("mask of a landline: %q, want %q", got, want)
	}
}
