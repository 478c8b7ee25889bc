package booking

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// requireText refuses free text staff must write (a decision's note, a
// case's answer) that is shorter than min characters, leading and trailing
// spaces aside, saying how long it must be: a note of "x" is too short, not
// missing. why, when given, is appended to the message. field is the
// request's field (authorised_by), named in the message in words.
func requireText(field, v string, min int, why string) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(v)); {
	case n == 0:
		return FieldErrorf(ErrInvalidField, field, "the %s is required: write at least %d characters%s", words(field), min, why)
	case n < min:
		return FieldErrorf(ErrInvalidField, field, "the %s is too short (it has %d): write at least %d characters%s", words(field), n, min, why)
	}
	return nil
}

// words is a field's name as a message says it: authorised_by is
// "authorised by".
func words(field string) string { return strings.ReplaceAll(field, "_", " ") }

// checkText refuses free text a person typed (a reason, a note) that is not
// valid UTF-8, holds a control character, or is longer than max runes. Such
// text is checked before anything changes: a NUL reached SQL only after a
// reissue had moved the slot, and the audit entry was lost.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return FieldErrorf(ErrInvalidText, field, "%s is not valid UTF-8", words(field))
	}
	n := 0
	for _, r := range v {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return FieldErrorf(ErrInvalidText, field, "%s holds a control character", words(field))
		}
		if isBidiControl(r) {
			return FieldErrorf(ErrInvalidText, field, "%s holds a bidirectional control character (U+%04X)", words(field), r)
		}
		n++
	}
	if n > max {
		return FieldErrorf(ErrInvalidText, field, "%s is longer than %d characters", words(field), max)
	}
	return nil
}

// isBidiControl reports the embeddings, overrides and isolates of the
// Unicode bidirectional algorithm (U+202A–U+202E, U+2066–U+2069): not
// control characters to Go, yet they reorder what follows them where the text
// is shown, so a doctor's name or a reason could read otherwise in the
// consoles and the audit log than it was stored ("Trojan Source",
// CVE-2021-42574). A reviewer published a doctor named "\u202eRTL x".
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// validFlagID reports whether id could name a flag (printable ASCII, at most
// 100 bytes): anything else names none and never reaches SQL.
func validFlagID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// auditText checks staff free text that is kept for good — in the
// append-only audit log (a call-back note, a desk action's reason, a
// catalog or schedule change's reason, a flag's decision note): checkText's
// rules, and no phone or ID number (noNumbers).
func auditText(field, v string, max int) error {
	if err := checkText(field, v, max); err != nil {
		return err
	}
	return noNumbers(field, v)
}

// noNumbers refuses staff free text that holds a phone or ID number (an ID
// number is a run of 17 digits and a check character, so holdsPhoneNumber
// finds it too): such text is kept for good in the audit, or told to a
// patient and kept with the case (an answer, a closing note), and the
// record already holds the numbers, sealed. Staff retype it without them;
// a patient's own text is masked instead (maskNumbers), since a patient is
// not refused for writing "call me on …" (review21 M4, docs/security.md).
func noNumbers(field, v string) error {
	if holdsPhoneNumber(v) {
		return FieldErrorf(ErrInvalidField, field,
			"%s is kept for good (the audit log, the patient's notices): leave phone and ID numbers out (the record has them)", words(field))
	}
	return nil
}

// holdsPhoneNumber reports whether free text holds a phone or ID number as
// people write it: digits in groups apart by one or two of space, hyphen,
// dot, slash or bracket (full-width too), where some groups in a row of 3
// digits or more each (a +86 or 0086 before them aside) make a mainland
// mobile (11 digits, 13 to 19), a landline with its area code (0 and 2 or 3
// digits, then a local number of 7 or 8 that starts with 2 to 9), or an ID
// card's number (18 digits, the last maybe X, or the old 15, with a birth
// date where it belongs); or any unbroken run of 11 digits or more. Dates,
// times, room and slot numbers and counts have groups of 1 or 2 digits or
// make none of these, so "2026-12-05 14:30" and "slots 1 2 3 … 10 11" pass
// (review17b L7: a run of 11 digits however grouped was refused). A mobile
// written in groups of 2 ("139 12 34 56 78") passes: nobody writes one so,
// and so does a record's id (recordID), which names nobody.
func holdsPhoneNumber(v string) bool {
	for _, run := range digitRuns(recordID.ReplaceAllLiteralString(v, "#")) {
		for i := range run {
			if len(run[i]) >= 11 && !strings.HasSuffix(run[i], "X") {
				return true
			}
			if len(run[i]) < 3 {
				continue
			}
			var d string
			for j := i; j < len(run) && len(run[j]) >= 3; j++ {
				if d += run[j]; isPhoneOrID(d, run[i]) || (j > i && isCountryCode(run[i]) && isPhoneOrID(d[len(run[i]):], run[i+1])) {
					return true
				}
			}
		}
	}
	return false
}

// digitRuns splits v into runs of digit groups: the groups of a run are apart
// by one or two separators. Full-width digits read as digits; an X right
// after a group's digits (an ID card's check character) ends the group.
func digitRuns(v string) [][]string {
	var runs [][]string
	var run []string
	var group []byte
	sep := 0 // separators since the last group
	end := func() {
		if len(group) > 0 {
			run, group = append(run, string(group)), nil
		}
	}
	for _, r := range v {
		switch {
		case r >= '０' && r <= '９':
			r = '0' + r - '０'
			fallthrough
		case r >= '0' && r <= '9':
			if len(group) > 0 && group[len(group)-1] == 'X' {
				end()
			}
			group, sep = append(group, byte(r)), 0
		case (r == 'X' || r == 'x') && len(group) > 0 && group[len(group)-1] != 'X':
			group = append(group, 'X')
		case strings.ContainsRune(" -./()+　－（）．", r) && sep < 2:
			end()
			sep++
		default:
			end()
			if len(run) > 0 {
				runs, run = append(runs, run), nil
			}
			sep = 0
		}
	}
	end()
	if len(run) > 0 {
		runs = append(runs, run)
	}
	return runs
}

func isCountryCode(g string) bool { return g == "86" || g == "086" || g == "0086" }

// isPhoneOrID reports whether the digits d, whose first group is first, are
// a mainland mobile, a landline with its area code or an ID card's number.
func isPhoneOrID(d, first string) bool {
	if i := strings.IndexByte(d, 'X'); i >= 0 && i != len(d)-1 {
		return false // an X only ends an ID number
	}
	switch n := len(d); {
	case strings.HasSuffix(d, "X"):
		return n == 18 && birthDate(d[6:14])
	case n == 11 && d[0] == '1' && d[1] >= '3':
		return true // a mobile
	case n >= 10 && n <= 12 && d[0] == '0':
		// A landline: its area code (010, 0571) alone in the first group
		// or run into the local number, which starts with 2 to 9.
		for _, area := range []int{3, 4} {
			local := d[min(area, n):]
			if (len(first) == area || len(first) == n) && (len(local) == 7 || len(local) == 8) && local[0] >= '2' {
				return true
			}
		}
	case n == 18:
		return birthDate(d[6:14])
	case n == 15:
		return birthDate("19" + d[6:12])
	}
	return false
}

// birthDate reports whether yyyymmdd reads as a date of birth.
func birthDate(yyyymmdd string) bool {
	y, m, d := yyyymmdd[:2], yyyymmdd[4:6], yyyymmdd[6:8]
	return (y == "18" || y == "19" || y == "20") && m >= "01" && m <= "12" && d >= "01" && d <= "31"
}
