package identity

import (
	"fmt"
	"strings"
)

// NormalizePhone validates a mainland China mobile number and returns its
// 11 bare digits, which is the form SMS gateways and hospital systems expect.
// Spaces, dashes and a +86 or 86 country prefix are removed first because
// patients copy numbers in all of those forms.
func NormalizePhone(phone string) (string, error) {
	p := strings.NewReplacer(" ", "", "-", "").Replace(phone)
	for _, prefix := range []string{"+86", "86"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && len(rest) == 11 {
			p = rest
			break
		}
	}
	if !isMobile(p) {
		return "", fmt.Errorf("%w: want an 11-digit mainland mobile number starting with 13 to 19", ErrInvalidPhone)
	}
	return p, nil
}

// isMobile reports whether p matches ^1[3-9][0-9]{9}$.
func isMobile(p string) bool {
	return len(p) == 11 && p[0] == '1' && p[1] >= '3' && p[1] <= '9' && allDigits(p)
}

// MaskPhone hides the middle of a phone number the way Chinese apps
// conventionally do (138****5678), so patients recognise it as theirs.
// Anything shorter than a mainland mobile number is masked completely.
func MaskPhone(phone string) string {
	r := []rune(phone)
	if len(r) < 11 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}
