package booking

import (
	"regexp"
	"strings"
	"unicode"
)

// recordID matches a record's id quoted in free text (a booking's, an
// account's: a UUID, any case). It names nobody, and its digits across its
// dashes can read as a mobile (…bf21-386858231e46: 21386858231), so text
// checks look past it: 5.6 % of random ids were masked and 1.2 % of notes
// naming one refused.
var recordID = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

// maskNumbers masks what reads as a phone or ID number in a patient's free
// text (a report, a complaint, an appeal): a run of 11 digits or more, as
// holdsPhoneNumber reads one (spaces, hyphens, dots and brackets between the
// digits allowed), an ID number's check character X included. A run keeps
// its first 3 and last 4 characters (138****0007, 110****0053): enough for
// staff to tell two numbers apart, not to call or use either. It reports
// whether it masked anything. A date and a time, a short local number and a
// record's id (recordID) stay as written.
//
// Audit notes refuse such text instead (auditText): staff can retype a
// note; a patient's complaint is not refused for saying "call me on …"
// (docs/security.md).
func maskNumbers(v string) (string, bool) {
	var out strings.Builder
	masked, at := false, 0
	for _, id := range recordID.FindAllStringIndex(v, -1) {
		text, m := maskRuns(v[at:id[0]])
		out.WriteString(text)
		out.WriteString(v[id[0]:id[1]])
		masked, at = masked || m, id[1]
	}
	text, m := maskRuns(v[at:])
	out.WriteString(text)
	return out.String(), masked || m
}

// maskRuns masks the runs of 11 digits or more in v, which holds no
// record's id.
func maskRuns(v string) (string, bool) {
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
