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

// NormalizeCallerPhone validates the number a caller rings the hospital
// from: a mainland mobile (NormalizePhone) or a landline with its area code
// (固定电话: 010, 02x or 0xxx, then a local number of 7 or 8 digits that
// starts with 2 to 9), with or without an extension. Elderly patients ring
// from a home landline (review23 M1). Spaces, hyphens, brackets (half- or
// full-width) and a +86 or 0086 country prefix (with the area code's trunk
// 0 dropped, as it is dialled from abroad) are removed; an extension
// follows 转, 分机, ext, x or #, or is a last group of 1 to 6 digits past a
// full local number. A landline comes back as its bare digits (01065123456),
// with "-" and the extension when there is one (01065123456-8001);
// CallerLine is the line without it. Only a caller's number may be a
// landline: an account's login receives SMS and stays a mobile.
func NormalizeCallerPhone(phone string) (string, error) {
	if p, err := NormalizePhone(phone); err == nil {
		return p, nil
	}
	bad := fmt.Errorf("%w: want a mainland mobile number or a landline with its area code (010-65123456)", ErrInvalidPhone)
	t := strings.ToLower(strings.TrimSpace(phone))
	ext := ""
	for _, m := range []string{"分机", "转", "ext.", "ext", "x", "#"} {
		if i := strings.Index(t, m); i >= 0 {
			ext = strings.Trim(t[i+len(m):], " -:：.")
			t = t[:i]
			if ext == "" {
				return "", bad
			}
			break
		}
	}
	abroad := false
	for _, prefix := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(t), prefix); ok {
			t, abroad = rest, true
			break
		}
	}
	// The digit groups between separators.
	var groups []string
	cur := ""
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			cur += string(r)
		case strings.ContainsRune(" -()（）", r):
			if cur != "" {
				groups = append(groups, cur)
				cur = ""
			}
		default:
			return "", bad
		}
	}
	if cur != "" {
		groups = append(groups, cur)
	}
	digits := strings.Join(groups, "")
	if abroad {
		if digits == "" || digits[0] == '0' {
			return "", bad
		}
		digits = "0" + digits
	}
	area := areaCodeLen(digits)
	if area == 0 {
		return "", bad
	}
	local := digits[area:]
	if !localNumber(local) && ext == "" && len(groups) >= 2 {
		// The last group is an extension when what is before it is a
		// whole local number (010-65123456-8001).
		last := groups[len(groups)-1]
		if len(last) <= 6 && localNumber(local[:len(local)-len(last)]) {
			local, ext = local[:len(local)-len(last)], last
		}
	}
	if !localNumber(local) || len(ext) > 6 || !allDigits(ext) {
		return "", bad
	}
	if ext != "" {
		return digits[:area] + local + "-" + ext, nil
	}
	return digits[:area] + local, nil
}

// areaCodeLen is the length of the area code digits start with: 3 for 010
// and 02x, 4 for 03xx to 09xx, 0 when they start with none.
func areaCodeLen(digits string) int {
	switch {
	case len(digits) < 3 || digits[0] != '0':
		return 0
	case digits[1] == '1':
		if digits[2] != '0' {
			return 0
		}
		return 3
	case digits[1] == '2':
		return 3
	case digits[1] >= '3' && digits[1] <= '9' && len(digits) >= 4:
		return 4
	}
	return 0
}

// localNumber reports whether l is a landline's local number: 7 or 8
// digits, the first 2 to 9.
func localNumber(l string) bool {
	return (len(l) == 7 || len(l) == 8) && l[0] >= '2' && l[0] <= '9' && allDigits(l)
}

// CallerLine is a caller's number (NormalizeCallerPhone's) without its
// extension: the line that is the caller's, as keyed hashes and masks
// name it. The extension only says how to ring back.
func CallerLine(p string) string {
	line, _, _ := strings.Cut(p, "-")
	return line
}

// IsLandline reports whether p (NormalizeCallerPhone's) is a landline: it
// receives no SMS.
func IsLandline(p string) bool { return strings.HasPrefix(p, "0") }
