package identity

import (
	"errors"
	"strings"
	"testing"
)

// FuzzNormalizePhone: a phone is refused with ErrInvalidPhone or normalized
// to 11 digits that normalize to themselves, masked without its middle.
func FuzzNormalizePhone(f *testing.F) {
	for _, seed := range []string{"13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "138１２３４５６７８", "12345678901", "", "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizePhone(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("NormalizePhone(%q) error = %v, want ErrInvalidPhone", in, err)
			}
			if _, ref := NormalizePhone("x"); err.Error() != ref.Error() {
				t.Errorf("NormalizePhone(%q) error %q depends on the input, want the fixed %q", in, err, ref)
			}
			return
		}
		if len(got) != 11 || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q, want 11 digits", in, got)
		}
		if again, err := NormalizePhone(got); err != nil || again != got {
			t.Errorf("NormalizePhone(%q) = %q, %v; want it unchanged", got, again, err)
		}
		if m := MaskPhone(got); m == got || len(m) != len(got) {
			t.Errorf("MaskPhone(%q) = %q", got, m)
		}
	})
}

// FuzzParseKey: a master key is 32 bytes or refused, and a refusal never
// quotes the key.
func FuzzParseKey(f *testing.F) {
	for _, seed := range []string{strings.Repeat("ab", 32), "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "short", "", strings.Repeat("z", 64)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		k, err := ParseKey(in)
		if err != nil {
			if _, ref := ParseKey(""); err.Error() != ref.Error() {
				t.Errorf("ParseKey error %q depends on the key, want the fixed %q", err, ref)
			}
			return
		}
		if len(k) != KeySize {
			t.Fatalf("ParseKey(%q) = %d bytes, want %d", in, len(k), KeySize)
		}
	})
}
