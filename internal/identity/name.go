package identity

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	middleDot = '·' // U+00B7, separates given and family names of ethnic minorities and foreigners
	bullet    = '•' // U+2022, what many phone keyboards type instead of the middle dot
	rightQuot = '’' // U+2019, what iOS and macOS type instead of an apostrophe
)

// NormalizeName validates a patient's real name and returns it in canonical
// form, so the same name typed on different devices hashes and compares the
// same. Surrounding space is trimmed and inner runs of space become one
// space. A name is either Chinese (2 to 20 Han characters, optionally joined
// by middle dots, as in 阿依古丽·买买提) or Latin (1 to 60 runes of Latin
// letters, spaces, hyphens, apostrophes and periods, starting with a letter).
// Accents must be precomposed (NFC), as every mainstream keyboard produces.
func NormalizeName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidName)
	}
	name = strings.TrimFunc(name, unicode.IsSpace)
	if name == "" {
		return "", fmt.Errorf("%w: name is empty", ErrInvalidName)
	}
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return "", fmt.Errorf("%w: name contains a control character", ErrInvalidName)
		case unicode.IsSpace(r):
			space = true
			continue
		case r == bullet:
			r = middleDot
		case r == rightQuot:
			r = '\''
		case r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ':
			// Chinese input methods in full-width mode type these; fold
			// them so the name matches the one on the patient's passport.
			r -= 'Ａ' - 'A'
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	n := b.String()
	first, _ := utf8.DecodeRuneInString(n)
	if unicode.Is(unicode.Han, first) || first == middleDot {
		return n, checkChineseName(n)
	}
	return n, checkLatinName(n)
}

func checkChineseName(n string) error {
	count := utf8.RuneCountInString(n)
	if count < 2 || count > 20 {
		return fmt.Errorf("%w: chinese name must be 2 to 20 characters, got %d", ErrInvalidName, count)
	}
	prev := rune(0)
	for _, r := range n {
		switch {
		case r == middleDot:
			if prev == middleDot {
				return fmt.Errorf("%w: chinese name has two middle dots in a row", ErrInvalidName)
			}
		case !unicode.Is(unicode.Han, r):
			return fmt.Errorf("%w: chinese name may only contain chinese characters and the middle dot", ErrInvalidName)
		}
		prev = r
	}
	last, _ := utf8.DecodeLastRuneInString(n)
	if first, _ := utf8.DecodeRuneInString(n); first == middleDot || last == middleDot {
		return fmt.Errorf("%w: chinese name cannot start or end with a middle dot", ErrInvalidName)
	}
	return nil
}

func checkLatinName(n string) error {
	count := utf8.RuneCountInString(n)
	if count > 60 {
		return fmt.Errorf("%w: latin name must be at most 60 characters, got %d", ErrInvalidName, count)
	}
	if first, _ := utf8.DecodeRuneInString(n); !isLatinLetter(first) {
		return fmt.Errorf("%w: name must start with a letter", ErrInvalidName)
	}
	for _, r := range n {
		switch {
		case isLatinLetter(r), r == ' ', r == '-', r == '\'', r == '.':
		case unicode.IsNumber(r):
			return fmt.Errorf("%w: name cannot contain digits", ErrInvalidName)
		case unicode.Is(unicode.Han, r):
			return fmt.Errorf("%w: name cannot mix chinese and latin letters", ErrInvalidName)
		default:
			return fmt.Errorf("%w: name may only contain letters, spaces, hyphens, apostrophes and periods", ErrInvalidName)
		}
	}
	return nil
}

func isLatinLetter(r rune) bool {
	return unicode.IsLetter(r) && unicode.Is(unicode.Latin, r)
}

// MaskName hides a name for display while leaving enough for the patient to
// recognise it as theirs. Chinese names keep the first and last character
// (张*丰, 欧**娜; two-character names keep only the first, 张*). Latin names
// keep the first letter of each word (J*** S****). A single-rune name, or a
// single-rune Latin word, is masked completely because nothing of it can be
// shown without showing all of it.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	if unicode.Is(unicode.Han, r[0]) {
		if len(r) == 2 {
			return string(r[0]) + "*"
		}
		return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
	}
	words := strings.Split(name, " ")
	for i, w := range words {
		wr := []rune(w)
		switch len(wr) {
		case 0:
		case 1:
			words[i] = "*"
		default:
			words[i] = string(wr[0]) + strings.Repeat("*", len(wr)-1)
		}
	}
	return strings.Join(words, " ")
}

// NearName reports whether got, a name someone gave for a person, is a near
// miss of name, the person's name read from their ID card: the same name
// but for one character heard or typed wrong, as a relative booking by ear
// gets it (同音字: 李玫 for 李梅). Both are canonical (NormalizeName). Near is:
// not the same; as many characters; the same first character — the family
// name of a Chinese name, the initial of a Latin one, which a relative does
// not get wrong —; and at most one other character different, Latin
// letters compared regardless of case. A name that shares all but one
// character with the person's is a name known: a stranger who knows only
// the ID number and types a name of their own is far.
func NearName(name, got string) bool {
	if name == got {
		return false
	}
	a, b := []rune(name), []rune(got)
	if len(a) != len(b) || len(a) < 2 {
		return false
	}
	differ := 0
	for i := range a {
		if a[i] == b[i] || unicode.ToUpper(a[i]) == unicode.ToUpper(b[i]) {
			continue
		}
		if i == 0 {
			return false
		}
		differ++
	}
	return differ <= 1
}
