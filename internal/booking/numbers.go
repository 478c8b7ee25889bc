package booking

import (
	"strings"
	"unicode"
)

// maskNumbers masks what reads as a phone or ID number in a patient's free
// text (a report, a complaint, an appeal): a run of 11 digits or more, as
// holdsPhoneNumber reads one (spaces, hyphens, dots and brackets between the
// digits allowed), an ID number's check character X included. A run keeps
// its first 3 and last 4 characters (138****0007, 110****0053): enough for
// staff to tell two numbers apart, not to call or use either. It reports
// whether it masked anything. A date and a time, a short local number stay
// as written.
//
// Audit notes refuse such text instead (auditText): staff can retype a
// note; a patient's complaint is not refused for saying "call me on …"
// (docs/security.md).
func maskNumbers(v string) (string, bool) {
	rs := []rune(v)
	var out strings.Builder
	masked := false
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) {
			out.WriteRune(rs[i])
			i++
			continue
		}
		end, digits := numberRun(rs, i)
		if len(digits) < 11 {
			out.WriteString(string(rs[i:end]))
			i = end
			continue
		}
		out.WriteString(string(digits[:3]) + "****" + string(digits[len(digits)-4:]))
		masked = true
		i = end
	}
	return out.String(), masked
}

// numberRun is the run of digits starting at rs[i]: where it ends (after
// its last digit, or an ID number's X right after its 17th digit) and its
// digits.
func numberRun(rs []rune, i int) (int, []rune) {
	var digits []rune
	end, gap := i, 0
	for j := i; j < len(rs); j++ {
		r := rs[j]
		switch {
		case unicode.IsDigit(r):
			digits = append(digits, r)
			end, gap = j+1, 0
		case (r == 'X' || r == 'x') && gap == 0 && len(digits) == 17:
			digits = append(digits, r)
			return j + 1, digits
		case strings.ContainsRune(" -.()+", r) && gap < 2:
			gap++
		default:
			return end, digits
		}
	}
	return end, digits
}
