// Package identity owns the real-name identity of a patient: validating and
// normalizing identity document numbers, names and mainland phone numbers,
// masking them for display, and keying the hashes and encryption used to
// store them without keeping them in the clear.
//
// Hospitals in mainland China book appointments under the patient's real
// name and identity document, so these values are both required and highly
// sensitive. Error details therefore describe what is wrong with a value but
// never repeat the value itself.
package identity

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Type names the kind of identity document a patient books with.
type Type string

// Document types accepted by hospitals for real-name booking.
const (
	ResidentID         Type = "resident_id"          // 18-char mainland resident ID card (GB 11643)
	Passport           Type = "passport"             // any country's passport
	HKMacauPermit      Type = "hk_macau_permit"      // 港澳居民来往内地通行证
	TaiwanPermit       Type = "taiwan_permit"        // 台湾居民来往大陆通行证
	ForeignPermanentID Type = "foreign_permanent_id" // 外国人永久居留身份证
	// BirthCertificate is a newborn's 出生医学证明, the document a child is
	// booked with (by a parent, as a family member) until household
	// registration gives them a resident ID number.
	BirthCertificate Type = "birth_certificate"
)

// Sentinel errors, always returned wrapped with a human-readable detail so
// callers can branch with errors.Is and still show a useful message.
var (
	ErrInvalidType   = errors.New("invalid id type")
	ErrInvalidNumber = errors.New("invalid id number")
	ErrInvalidName   = errors.New("invalid name")
	ErrInvalidPhone  = errors.New("invalid phone number")
)

// ID is a validated, normalized identity document. Values returned by Parse
// are canonical, so two IDs for the same document compare equal with ==.
type ID struct {
	Type   Type
	Number string
}

// Parse validates an identity document number of the given type and returns
// it in canonical form: surrounding space trimmed and letters upper-cased.
// The type must be spelled exactly as one of the Type constants, because it
// comes from our own client rather than from what a patient typed.
func Parse(typ, number string) (ID, error) {
	return parse(typ, number, time.Now())
}

// parse is Parse with the current time injected, so tests of the
// "birth date is not in the future" rule do not depend on the wall clock.
func parse(typ, number string, now time.Time) (ID, error) {
	t := Type(typ)
	n, ok := upperASCII(strings.TrimSpace(number))
	if !ok {
		return ID{}, fmt.Errorf("%w: only letters A-Z and digits are allowed", ErrInvalidNumber)
	}
	var err error
	switch t {
	case ResidentID:
		err = checkResidentID(n, now)
	case Passport:
		err = checkPassport(n)
	case HKMacauPermit:
		err = checkHKMacauPermit(n)
	case TaiwanPermit:
		err = checkTaiwanPermit(n)
	case ForeignPermanentID:
		err = checkForeignPermanentID(n)
	case BirthCertificate:
		err = checkBirthCertificate(n)
	default:
		return ID{}, fmt.Errorf("%w: %q is not a supported document type", ErrInvalidType, typ)
	}
	if err != nil {
		return ID{}, err
	}
	return ID{Type: t, Number: n}, nil
}

// upperASCII upper-cases a-z and reports whether s holds only ASCII letters
// and digits. strings.ToUpper is not used because it maps some non-ASCII
// runes (such as 'ı' and 'ſ') onto ASCII letters, which would let two
// different inputs normalize to the same document number.
func upperASCII(s string) (string, bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return string(b), true
}

func checkResidentID(n string, now time.Time) error {
	if len(n) != 18 {
		return fmt.Errorf("%w: resident id must be 18 characters, got %d", ErrInvalidNumber, len(n))
	}
	if !allDigits(n[:17]) || !isCheckChar(n[17]) {
		return fmt.Errorf("%w: resident id must be 17 digits followed by a digit or X", ErrInvalidNumber)
	}
	if !isProvince(n[:2]) {
		return fmt.Errorf("%w: resident id region code %s is not a province", ErrInvalidNumber, n[:2])
	}
	if err := checkBirthDate(n[6:14], now); err != nil {
		return err
	}
	if CheckDigit(n[:17]) != n[17] {
		// Never say which digit would be right: that would make a
		// forger's work one request.
		return fmt.Errorf("%w: the check digit does not match", ErrInvalidNumber)
	}
	return nil
}

// isProvince reports whether code is a province-level division code from
// GB/T 2260, including Taiwan (71), Hong Kong (81), Macau (82) and the 83
// prefix issued on residence permits for Hong Kong, Macau and Taiwan people.
func isProvince(code string) bool {
	p := int(code[0]-'0')*10 + int(code[1]-'0')
	switch {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37,
		p >= 41 && p <= 46, p >= 50 && p <= 54, p >= 61 && p <= 65:
		return true
	case p == 71, p == 81, p == 82, p == 83:
		return true
	}
	return false
}

func checkBirthDate(yyyymmdd string, now time.Time) error {
	d, err := time.Parse("20060102", yyyymmdd)
	if err != nil {
		return fmt.Errorf("%w: birth date is not a calendar date", ErrInvalidNumber)
	}
	if d.Year() < 1900 {
		return fmt.Errorf("%w: birth year %d is before 1900", ErrInvalidNumber, d.Year())
	}
	// Compare against today's date in China (UTC+8, no daylight saving),
	// where the card was issued, so a baby born just after midnight Beijing
	// time is not rejected by a server running on UTC.
	if yyyymmdd > now.UTC().Add(8*time.Hour).Format("20060102") {
		return fmt.Errorf("%w: birth date is in the future", ErrInvalidNumber)
	}
	return nil
}

// CheckDigit computes the GB 11643-1999 (ISO 7064 MOD 11-2) check
// character for 17 ASCII digits; tools and tests that need valid numbers
// use it too.
func CheckDigit(first17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

func checkPassport(n string) error {
	if len(n) < 5 || len(n) > 17 {
		return fmt.Errorf("%w: passport number must be 5 to 17 characters, got %d", ErrInvalidNumber, len(n))
	}
	if !strings.ContainsAny(n, "0123456789") {
		return fmt.Errorf("%w: passport number must contain a digit", ErrInvalidNumber)
	}
	return nil
}

func checkHKMacauPermit(n string) error {
	if len(n) != 9 && len(n) != 11 {
		return fmt.Errorf("%w: hong kong and macau permit must be H or M and 8 or 10 digits, got %d characters", ErrInvalidNumber, len(n))
	}
	if n[0] != 'H' && n[0] != 'M' {
		return fmt.Errorf("%w: hong kong and macau permit must start with H or M", ErrInvalidNumber)
	}
	if !allDigits(n[1:]) {
		return fmt.Errorf("%w: hong kong and macau permit must have only digits after the letter", ErrInvalidNumber)
	}
	return nil
}

func checkTaiwanPermit(n string) error {
	if len(n) != 8 && len(n) != 10 {
		return fmt.Errorf("%w: taiwan permit must be 8 or 10 digits, got %d characters", ErrInvalidNumber, len(n))
	}
	if !allDigits(n) {
		return fmt.Errorf("%w: taiwan permit must be only digits", ErrInvalidNumber)
	}
	return nil
}

func checkForeignPermanentID(n string) error {
	switch len(n) {
	case 15:
		// Cards issued before December 2023: nationality letters, then digits.
		if !allLetters(n[:3]) || !allDigits(n[3:]) {
			return fmt.Errorf("%w: 15-character foreign permanent id must be 3 letters and 12 digits", ErrInvalidNumber)
		}
		return nil
	case 18:
		// Cards issued since December 2023 share the resident ID layout and
		// check digit; the leading 9 keeps them apart from resident IDs.
		if n[0] != '9' {
			return fmt.Errorf("%w: 18-character foreign permanent id must start with 9", ErrInvalidNumber)
		}
		if !allDigits(n[:17]) || !isCheckChar(n[17]) {
			return fmt.Errorf("%w: 18-character foreign permanent id must be 17 digits followed by a digit or X", ErrInvalidNumber)
		}
		if CheckDigit(n[:17]) != n[17] {
			return fmt.Errorf("%w: the check digit does not match", ErrInvalidNumber)
		}
		return nil
	}
	return fmt.Errorf("%w: foreign permanent id must be 15 or 18 characters, got %d", ErrInvalidNumber, len(n))
}

// checkBirthCertificate checks a 出生医学证明 number: the edition's letter
// and nine digits (P440012345), as printed on the certificate since 1996.
func checkBirthCertificate(n string) error {
	if len(n) != 10 || !allLetters(n[:1]) || !allDigits(n[1:]) {
		return fmt.Errorf("%w: birth certificate number must be a letter and 9 digits", ErrInvalidNumber)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isCheckChar(c byte) bool { return c == 'X' || (c >= '0' && c <= '9') }

// BirthYear is the holder's year of birth where the document carries it:
// a resident ID's digits 7-10 (Parse has checked they begin a calendar
// date). Other documents carry none, and give 0.
func (id ID) BirthYear() int {
	if id.Type != ResidentID || len(id.Number) != 18 {
		return 0
	}
	y := 0
	for _, c := range id.Number[6:10] {
		y = y*10 + int(c-'0')
	}
	return y
}

// Masked returns the document number with all but a few characters replaced
// by asterisks, keeping its length so staff can still tell formats apart.
// 18-character numbers keep the first 3 (the province and city) and the last
// 4, which is what patients are used to seeing on Chinese receipts; other
// numbers keep the first character and the last 2.
func (id ID) Masked() string {
	n := len([]rune(id.Number))
	if (id.Type == ResidentID || id.Type == ForeignPermanentID) && n == 18 {
		return maskMiddle(id.Number, 3, 4)
	}
	return maskMiddle(id.Number, 1, 2)
}

// maskMiddle keeps head runes at the start and tail runes at the end of s
// and replaces the rest with asterisks. Short values are masked completely,
// since showing even a few characters of them would give most of them away.
func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	if head+tail >= len(r) {
		head, tail = 1, 2
	}
	var b strings.Builder
	b.Grow(len(r))
	b.WriteString(string(r[:head]))
	b.WriteString(strings.Repeat("*", len(r)-head-tail))
	b.WriteString(string(r[len(r)-tail:]))
	return b.String()
}

// ChildAge is the age below which a person's personal information is a
// minor's (个人信息保护法 art. 28 and 31: under 14, a parent's or
// guardian's consent).
const ChildAge = 14

// UnderAge says whether the holder is younger than years on the day of
// when in China (UTC+8, as the card is dated): a resident ID's birth date
// tells, a birth certificate is a newborn's (under any age asked here);
// other documents carry no birth date, and known is false.
func (id ID) UnderAge(years int, when time.Time) (under, known bool) {
	switch {
	case id.Type == BirthCertificate:
		return true, true
	case id.Type != ResidentID || len(id.Number) != 18:
		return false, false
	}
	day, ok := id.AgeReached(years)
	if !ok {
		return false, false
	}
	return when.UTC().Add(8*time.Hour).Format(time.DateOnly) < day, true
}

// AgeReached is the day (YYYY-MM-DD, China's calendar) on which a resident
// ID's holder turns years old, read from the birth date in digits 7-14: the
// birthday in that year (a 29 February one is 1 March in a common year).
// Other documents carry no birth date: ok is false.
func (id ID) AgeReached(years int) (day string, ok bool) {
	if id.Type != ResidentID || len(id.Number) != 18 {
		return "", false
	}
	born, err := time.Parse("20060102", id.Number[6:14])
	if err != nil {
		return "", false
	}
	return born.AddDate(years, 0, 0).Format(time.DateOnly), true
}
