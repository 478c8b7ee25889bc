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

// TestHoldsPhoneNumber: a phone or ID number as people write it — a
// mainland mobile (11 digits from 13 to 19), a landline with its area code,
// an ID card's 18 (or old 15) digits, each whole or in groups of 3 or more
// apart by spaces, hyphens, dots or brackets, with or without +86 — is
// refused; ordinary text with digits passes: dates, times, room and slot
// numbers, short counts, even when they line up to 11 digits (review17b L7:
// "slots 1 2 3 … 11" was refused as a phone number).
func TestHoldsPhoneNumber(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		// Phones, however written.
		{"13912345678", true},
		{"rang 139 1234 5678 instead", true},
		{"son: +86-139-1234-5678", true},
		{"+86 13912345678", true},
		{"0086 139.1234.5678", true},
		{"(010) 6512-3456 7", true},
		{"０１０ ６５１２ ３４５６", true}, // full-width digits
		{"0571-88886666", true},
		{"(0571) 8888 6666", true},
		{"电话13912345678请回电", true},
		// ID numbers, however written.
		{"ID 110105196001011234", true},
		{"110105 19600101 123X", true},
		{"110105 1960 0101 1234", true},
		{"身份证号11010519600101123x已核对", true},
		{"old card 110105600101123", true},
		{"card no. 62220212345678901", true}, // an unbroken run of 11 digits or more is some number of a person's
		// Near misses that are no phone or ID number.
		{"told his daughter", false},
		// A record's id names nobody, though its digits across its dashes
		// can read as a mobile (177 4321 8167); a phone beside it still counts.
		{"booking 7ed629f5-d177-4321-8167-762f52cf4f1f moved", false},
		{"booking 7ED629F5-D177-4321-8167-762F52CF4F1F moved", false},
		{"7ed629f5-d177-4321-8167-762f52cf4f1f 13912345678", true},
		{"2026-12-05 14:30", false},
		{"came back at 14:30 on 12/05, slot 12", false},
		{"slots 1 2 3 4 5 6 7 8 9 10 11 freed", false},
		{"2026-12-05 2026-12-06", false},
		{"12.05 12.06 12.07 12.08 12.09 12.10", false},
		{"room 1203 bed 12, 3 visits", false},
		{"rooms 0301 0302 0303", false},             // no local number starts with 0
		{"sessions 101 102 103 104 105 106", false}, // 18 digits, no birth date in them
		{"queue 2026 1205 1430", false},
		{"139 1234 567", false}, // 10 digits
		{"6512 3456", false},    // 8 digits: a local landline passes
		{"1391234567", false},
		{"", false},
	} {
		if got := holdsPhoneNumber(tt.in); got != tt.want {
			t.Errorf("holdsPhoneNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestMaskNumbersKeepsRecordIDs: a booking's or an account's id quoted in a
// complaint is kept whole — its digits across a dash read as a mobile
// (bf21-386858231e46: 21386858231) and were masked, and a report naming
// an account by its id then named no account — while a phone beside it is
// masked.
func TestMaskNumbersKeepsRecordIDs(t *testing.T) {
	const id = "60696734-a419-497e-bf21-386858231e46"
	for in, want := range map[string]string{
		id: id,
		"预约号 " + id + "，电话 13912345678": "预约号 " + id + "，电话 139****5678",
		"x" + id[1:]:       "x0696734-a419-497e-bf213****8231e46", // no id (x is no hex digit): its 11 digits are masked
		"13912345678-a419": "139****5678-a419",
	} {
		if got, _ := maskNumbers(in); got != want {
			t.Errorf("maskNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}
