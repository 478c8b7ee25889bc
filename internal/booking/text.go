package booking

import (
	"unicode"
	"unicode/utf8"
)

// checkText refuses free text a person typed (a reason, a note) that is not
// valid UTF-8, holds a control character, or is longer than max runes. Such
// text is checked before anything changes: a NUL reached SQL only after a
// reissue had moved the slot, and the audit entry was lost.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return Errorf(ErrInvalidText, "%s is not valid UTF-8", field)
	}
	n := 0
	for _, r := range v {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return Errorf(ErrInvalidText, "%s holds a control character", field)
		}
		n++
	}
	if n > max {
		return Errorf(ErrInvalidText, "%s is longer than %d characters", field, max)
	}
	return nil
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
