package booking

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCheckText: free text is accepted only as valid UTF-8 without a
// control character, within its length: what SQL and the audit log take.
func FuzzCheckText(f *testing.F) {
	for _, seed := range []string{"did not come", "急诊加号", "a\x00b", "a\nb", "\xff", "\u0085", "\u2028", "\u202eRTL x", "a\u2066b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := checkText("reason", in, 50)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Code != ErrInvalidText.Code {
				t.Fatalf("checkText(%q) = %v, want invalid_text", in, err)
			}
			return
		}
		if !utf8.ValidString(in) || utf8.RuneCountInString(in) > 50 {
			t.Fatalf("checkText accepted %q", in)
		}
		for _, r := range in {
			if unicode.IsControl(r) || r == 0 || isBidiControl(r) {
				t.Fatalf("checkText accepted %q with control %U", in, r)
			}
		}
	})
}

// TestCheckTextRefusesBidiControls: every embedding, override and isolate
// is refused wherever it stands; marks that only set a direction (U+200E,
// U+200F) and text of either direction are kept.
func TestCheckTextRefusesBidiControls(t *testing.T) {
	for r := rune(0x202A); r <= 0x202E; r++ {
		if err := checkText("name", "Dr "+string(r)+"Wang", 60); err == nil {
			t.Errorf("checkText accepted U+%04X", r)
		}
	}
	for r := rune(0x2066); r <= 0x2069; r++ {
		if err := checkText("name", string(r)+"王医生", 60); err == nil {
			t.Errorf("checkText accepted U+%04X", r)
		}
	}
	for _, ok := range []string{"王建国 Wang Jianguo", "\u200f\u0645\u062d\u0645\u062f", "a\u200eb"} {
		if err := checkText("name", ok, 60); err != nil {
			t.Errorf("checkText(%q) = %v, want nil", ok, err)
		}
	}
}

// TestHoldsPhoneNumber: a run of 11 digits or more, spaces, hyphens, dots
// and brackets between them allowed, is a phone number (a mainland mobile
// however it is written, a landline with its area code); dates, times,
// short numbers and an 8-digit local landline are not.
func TestHoldsPhoneNumber(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"13912345678", true},
		{"rang 139 1234 5678 instead", true},
		{"son: +86-139-1234-5678", true},
		{"(010) 6512-3456 7", true},
		{"０１０ ６５１２ ３４５６", true}, // full-width digits
		{"told his daughter", false},
		{"2026-12-05 14:30", false},
		{"came back at 14:30 on 12/05, slot 12", false},
		{"6512 3456", false}, // 8 digits: a local landline passes
		{"1391234567", false},
		{"", false},
	} {
		if got := holdsPhoneNumber(tt.in); got != tt.want {
			t.Errorf("holdsPhoneNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
