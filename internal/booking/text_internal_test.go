package booking

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCheckText: free text is accepted only as valid UTF-8 without a
// control character, within its length: what SQL and the audit log take.
func FuzzCheckText(f *testing.F) {
	for _, seed := range []string{"did not come", "急诊加号", "a\x00b", "a\nb", "\xff", "\u0085", "\u2028"} {
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
			if unicode.IsControl(r) || r == 0 {
				t.Fatalf("checkText accepted %q with control %U", in, r)
			}
		}
	})
}
