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

// auditText checks free text that goes into the append-only audit log (a
// call-back note, a desk action's reason): checkText's rules, and no phone
// or ID number, which would stay there for good (an ID number is a run of
// 17 digits and a check character, so holdsPhoneNumber finds it too).
func auditText(field, v string, max int) error {
	if err := checkText(field, v, max); err != nil {
		return err
	}
	if holdsPhoneNumber(v) {
		return FieldErrorf(ErrInvalidField, field,
			"%s goes into the audit log for good: leave phone and ID numbers out (the record has them)", words(field))
	}
	return nil
}

// holdsPhoneNumber reports whether free text holds what reads as a phone
// number: a run of 11 digits or more (a mainland mobile however it is
// written, a landline with its area code), spaces, hyphens, dots and
// brackets between them allowed. A date and a time ("2026-12-05 14:30")
// are no run of 11; an 8-digit local landline passes (what staff type is
// still theirs to keep out).
func holdsPhoneNumber(v string) bool {
	n, gap := 0, 0
	for _, r := range v {
		switch {
		case unicode.IsDigit(r):
			n, gap = n+1, 0
			if n >= 11 {
				return true
			}
		case strings.ContainsRune(" -.()+", r) && gap < 2:
			gap++
		default:
			n, gap = 0, 0
		}
	}
	return false
}
