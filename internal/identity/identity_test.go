package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed "today" so birth-date checks do not drift with the clock.
func testNow() time.Time { return time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC) }

// withCheck appends the GB 11643 check character to 17 digits, computed
// independently of CheckDigit so the test does not just mirror the code.
func withCheck(t testing.TB, first17 string) string {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("withCheck(%q): want 17 digits", first17)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * weights[i]
	}
	// ISO 7064 MOD 11-2: the check value c satisfies (sum + c) % 11 == 1,
	// where X stands for 10.
	for c := 0; c <= 10; c++ {
		if (sum+c)%11 == 1 {
			if c == 10 {
				return first17 + "X"
			}
			return first17 + string(rune('0'+c))
		}
	}
	t.Fatalf("withCheck(%q): no check digit", first17)
	return ""
}

// wrongCheck returns id with its check character replaced by a wrong one.
func wrongCheck(id string) string {
	last := id[17]
	if last == '1' {
		return id[:17] + "2"
	}
	return id[:17] + "1"
}

func TestParse(t *testing.T) {
	beijing := withCheck(t, "11010119900307123")    // Beijing, born 1990-03-07
	shanghai := withCheck(t, "31011520000229456")   // Shanghai, born on a leap day
	xinjiang := withCheck(t, "65010219851111001")   // Ürümqi
	hkResident := withCheck(t, "81000019950101004") // Hong Kong resident permit
	today := withCheck(t, "44030520250615001")      // Shenzhen, born on testNow
	foreignNew := withCheck(t, "93336819850620001") // 2023-format permanent residence card
	xID := ""                                       // a Guangzhou resident ID whose check character is X
	for seq := 0; xID == ""; seq++ {
		xID = withCheck(t, fmt.Sprintf("44010619850820%03d", seq))
		if xID[17] != 'X' {
			xID = ""
		}
	}

	tests := []struct {
		name    string
		typ     string
		number  string
		want    ID
		wantErr error
	}{
		{name: "resident well-known example", typ: "resident_id", number: "11010519491231002X", want: ID{ResidentID, "11010519491231002X"}},
		{name: "resident lower-case x", typ: "resident_id", number: "11010519491231002x", want: ID{ResidentID, "11010519491231002X"}},
		{name: "resident computed X", typ: "resident_id", number: strings.ToLower(xID), want: ID{ResidentID, xID}},
		{name: "resident beijing", typ: "resident_id", number: beijing, want: ID{ResidentID, beijing}},
		{name: "resident leap day", typ: "resident_id", number: shanghai, want: ID{ResidentID, shanghai}},
		{name: "resident xinjiang", typ: "resident_id", number: xinjiang, want: ID{ResidentID, xinjiang}},
		{name: "resident hong kong permit", typ: "resident_id", number: hkResident, want: ID{ResidentID, hkResident}},
		{name: "resident born today", typ: "resident_id", number: today, want: ID{ResidentID, today}},
		{name: "resident surrounding space", typ: "resident_id", number: "  " + beijing + "\n", want: ID{ResidentID, beijing}},
		{name: "resident wrong check digit", typ: "resident_id", number: wrongCheck(beijing), wantErr: ErrInvalidNumber},
		{name: "resident well-known with wrong check", typ: "resident_id", number: "110105194912310021", wantErr: ErrInvalidNumber},
		{name: "resident 17 chars", typ: "resident_id", number: beijing[:17], wantErr: ErrInvalidNumber},
		{name: "resident 19 chars", typ: "resident_id", number: beijing + "1", wantErr: ErrInvalidNumber},
		{name: "resident old 15-digit card", typ: "resident_id", number: "110105491231002", wantErr: ErrInvalidNumber},
		{name: "resident letter inside", typ: "resident_id", number: "1101051949A231002X", wantErr: ErrInvalidNumber},
		{name: "resident inner space", typ: "resident_id", number: "110105 19491231002X", wantErr: ErrInvalidNumber},
		{name: "resident region 99", typ: "resident_id", number: withCheck(t, "99010119900307123"), wantErr: ErrInvalidNumber},
		{name: "resident region 00", typ: "resident_id", number: withCheck(t, "00010119900307123"), wantErr: ErrInvalidNumber},
		{name: "resident region 16", typ: "resident_id", number: withCheck(t, "16010119900307123"), wantErr: ErrInvalidNumber},
		{name: "resident feb 30", typ: "resident_id", number: withCheck(t, "11010119900230123"), wantErr: ErrInvalidNumber},
		{name: "resident feb 29 non-leap", typ: "resident_id", number: withCheck(t, "11010119010229123"), wantErr: ErrInvalidNumber},
		{name: "resident month 13", typ: "resident_id", number: withCheck(t, "11010119901301123"), wantErr: ErrInvalidNumber},
		{name: "resident born 1899", typ: "resident_id", number: withCheck(t, "11010118991231123"), wantErr: ErrInvalidNumber},
		{name: "resident born tomorrow", typ: "resident_id", number: withCheck(t, "11010120250616123"), wantErr: ErrInvalidNumber},
		{name: "resident born 2099", typ: "resident_id", number: withCheck(t, "11010120990101123"), wantErr: ErrInvalidNumber},
		{name: "resident empty", typ: "resident_id", number: "", wantErr: ErrInvalidNumber},
		{name: "resident full-width digits", typ: "resident_id", number: "１１０１０５１９４９１２３１００２X", wantErr: ErrInvalidNumber},

		{name: "passport chinese E", typ: "passport", number: "E12345678", want: ID{Passport, "E12345678"}},
		{name: "passport chinese G lower case", typ: "passport", number: " g12345678 ", want: ID{Passport, "G12345678"}},
		{name: "passport US digits only", typ: "passport", number: "123456789", want: ID{Passport, "123456789"}},
		{name: "passport UK", typ: "passport", number: "533401372", want: ID{Passport, "533401372"}},
		{name: "passport german", typ: "passport", number: "C01X00T47", want: ID{Passport, "C01X00T47"}},
		{name: "passport 5 chars", typ: "passport", number: "AB123", want: ID{Passport, "AB123"}},
		{name: "passport 17 chars", typ: "passport", number: "ABCDEFGHIJKLMNOP1", want: ID{Passport, "ABCDEFGHIJKLMNOP1"}},
		{name: "passport 4 chars", typ: "passport", number: "A123", wantErr: ErrInvalidNumber},
		{name: "passport 18 chars", typ: "passport", number: "ABCDEFGHIJKLMNOPQ1", wantErr: ErrInvalidNumber},
		{name: "passport no digit", typ: "passport", number: "ABCDEFGH", wantErr: ErrInvalidNumber},
		{name: "passport dash", typ: "passport", number: "E1234-5678", wantErr: ErrInvalidNumber},
		{name: "passport dotless i", typ: "passport", number: "ı12345678", wantErr: ErrInvalidNumber},

		{name: "hk permit 8 digits", typ: "hk_macau_permit", number: "H12345678", want: ID{HKMacauPermit, "H12345678"}},
		{name: "hk permit 10 digits", typ: "hk_macau_permit", number: "H1234567890", want: ID{HKMacauPermit, "H1234567890"}},
		{name: "macau permit lower case", typ: "hk_macau_permit", number: "m12345678", want: ID{HKMacauPermit, "M12345678"}},
		{name: "hk permit 9 digits", typ: "hk_macau_permit", number: "H123456789", wantErr: ErrInvalidNumber},
		{name: "hk permit 7 digits", typ: "hk_macau_permit", number: "H1234567", wantErr: ErrInvalidNumber},
		{name: "hk permit wrong letter", typ: "hk_macau_permit", number: "C12345678", wantErr: ErrInvalidNumber},
		{name: "hk permit letter inside", typ: "hk_macau_permit", number: "H1234567A", wantErr: ErrInvalidNumber},

		{name: "taiwan permit 8 digits", typ: "taiwan_permit", number: "12345678", want: ID{TaiwanPermit, "12345678"}},
		{name: "taiwan permit 10 digits", typ: "taiwan_permit", number: "1234567890", want: ID{TaiwanPermit, "1234567890"}},
		{name: "taiwan permit 9 digits", typ: "taiwan_permit", number: "123456789", wantErr: ErrInvalidNumber},
		{name: "taiwan permit letter", typ: "taiwan_permit", number: "T1234567", wantErr: ErrInvalidNumber},

		{name: "foreign old format", typ: "foreign_permanent_id", number: "USA110070101001", want: ID{ForeignPermanentID, "USA110070101001"}},
		{name: "foreign old format lower case", typ: "foreign_permanent_id", number: "can310080901002", want: ID{ForeignPermanentID, "CAN310080901002"}},
		{name: "foreign new format", typ: "foreign_permanent_id", number: foreignNew, want: ID{ForeignPermanentID, foreignNew}},
		{name: "foreign new format wrong check", typ: "foreign_permanent_id", number: wrongCheck(foreignNew), wantErr: ErrInvalidNumber},
		{name: "foreign new format not starting with 9", typ: "foreign_permanent_id", number: beijing, wantErr: ErrInvalidNumber},
		{name: "foreign old format digit in letters", typ: "foreign_permanent_id", number: "US1110070101001", wantErr: ErrInvalidNumber},
		{name: "foreign old format letter in digits", typ: "foreign_permanent_id", number: "USA11007010100A", wantErr: ErrInvalidNumber},
		{name: "foreign 16 chars", typ: "foreign_permanent_id", number: "USA1100701010011", wantErr: ErrInvalidNumber},
		{name: "birth certificate", typ: "birth_certificate", number: "p440012345", want: ID{BirthCertificate, "P440012345"}},
		{name: "birth certificate two letters", typ: "birth_certificate", number: "PQ44001234", wantErr: ErrInvalidNumber},
		{name: "birth certificate 8 digits", typ: "birth_certificate", number: "P44001234", wantErr: ErrInvalidNumber},
		{name: "birth certificate no letter", typ: "birth_certificate", number: "4400123456", wantErr: ErrInvalidNumber},

		{name: "unknown type", typ: "driver_license", number: "E12345678", wantErr: ErrInvalidType},
		{name: "empty type", typ: "", number: "E12345678", wantErr: ErrInvalidType},
		{name: "type wrong case", typ: "Passport", number: "E12345678", wantErr: ErrInvalidType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.typ, tt.number, testNow())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("parse(%q, %q) error = %v, want %v", tt.typ, tt.number, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q, %q) error = %v, want nil", tt.typ, tt.number, err)
			}
			if got != tt.want {
				t.Errorf("parse(%q, %q) = %+v, want %+v", tt.typ, tt.number, got, tt.want)
			}
		})
	}
}

// TestParseDetails checks that each way a resident ID can be wrong gets its
// own message, so a patient knows what to fix.
func TestParseDetails(t *testing.T) {
	tests := []struct {
		name   string
		number string
		want   string
	}{
		{name: "length", number: "1101051949123100", want: "must be 18 characters, got 16"},
		{name: "characters", number: "11010519491231002Y", want: "17 digits followed by a digit or X"},
		{name: "region", number: withCheck(t, "99010119900307123"), want: "region code 99"},
		{name: "calendar date", number: withCheck(t, "11010119900230123"), want: "not a calendar date"},
		{name: "too old", number: withCheck(t, "11010118991231123"), want: "before 1900"},
		{name: "future", number: withCheck(t, "11010120990101123"), want: "in the future"},
		{name: "check digit", number: "110105194912310021", want: "check digit does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("resident_id", tt.number, testNow())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse(resident_id, %q) error = %v, want it to contain %q", tt.number, err, tt.want)
			}
		})
	}
}

// TestCheckDigitNotRevealed checks that a wrong check digit is refused
// without naming the right one, for every type that has one: the answer
// must not turn a forged number into a valid one.
func TestCheckDigitNotRevealed(t *testing.T) {
	for _, tt := range []struct{ typ, first17 string }{
		{"resident_id", "11010519491231002"},
		{"foreign_permanent_id", "93101019900307123"},
	} {
		right := CheckDigit(tt.first17)
		for _, c := range "0123456789X" {
			if byte(c) == right {
				continue
			}
			_, err := parse(tt.typ, tt.first17+string(c), testNow())
			if err == nil {
				t.Fatalf("parse(%s, %s%c) = nil error, want a wrong check digit", tt.typ, tt.first17, c)
			}
			if msg := err.Error(); strings.Contains(msg, string(right)) && !strings.Contains(tt.first17, string(right)) ||
				strings.Contains(msg, "want") {
				t.Errorf("parse(%s, %s%c) error %q reveals the right check digit %c", tt.typ, tt.first17, c, msg, right)
			}
		}
	}
}

// TestParseBirthDateChinaTime checks that "today" is taken in Beijing time:
// at 2025-06-15 20:00 UTC it is already 2025-06-16 in China.
func TestParseBirthDateChinaTime(t *testing.T) {
	now := time.Date(2025, time.June, 15, 20, 0, 0, 0, time.UTC)
	id := withCheck(t, "11010120250616123")
	if _, err := parse("resident_id", id, now); err != nil {
		t.Errorf("parse(resident_id, %q) at %v error = %v, want nil", id, now, err)
	}
}

func TestParseUsesClock(t *testing.T) {
	got, err := Parse("resident_id", "11010519491231002X")
	if err != nil {
		t.Fatalf("Parse error = %v, want nil", err)
	}
	if want := (ID{ResidentID, "11010519491231002X"}); got != want {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
}

func TestBirthYear(t *testing.T) {
	cases := []struct {
		typ, number string
		want        int
	}{
		{"resident_id", withCheck(t, "11010520160304123"), 2016},
		{"resident_id", withCheck(t, "44030419491001002"), 1949},
		{"passport", "E12345678", 0},
	}
	for _, c := range cases {
		id, err := parse(c.typ, c.number, testNow())
		if err != nil {
			t.Fatalf("parse %s: %v", c.typ, err)
		}
		if got := id.BirthYear(); got != c.want {
			t.Errorf("%s BirthYear() = %d, want %d", c.typ, got, c.want)
		}
	}
	// An 18-character foreign permanent ID has digits where a resident ID
	// has its birth date, but they are no birth date to read.
	if got := (ID{Type: ForeignPermanentID, Number: "910000201603040123"}).BirthYear(); got != 0 {
		t.Errorf("foreign permanent ID BirthYear() = %d, want 0", got)
	}
}

func TestMasked(t *testing.T) {
	tests := []struct {
		name string
		id   ID
		want string
	}{
		{name: "resident", id: ID{ResidentID, "11010519491231002X"}, want: "110***********002X"},
		{name: "foreign new format", id: ID{ForeignPermanentID, "933368198506200011"}, want: "933***********0011"},
		{name: "foreign old format", id: ID{ForeignPermanentID, "USA110070101001"}, want: "U************01"},
		{name: "passport", id: ID{Passport, "E12345678"}, want: "E******78"},
		{name: "passport 5 chars", id: ID{Passport, "AB123"}, want: "A**23"},
		{name: "hk permit", id: ID{HKMacauPermit, "H1234567890"}, want: "H********90"},
		{name: "taiwan permit", id: ID{TaiwanPermit, "12345678"}, want: "1*****78"},
		{name: "four chars", id: ID{Passport, "A123"}, want: "****"},
		{name: "short resident", id: ID{ResidentID, "1101051"}, want: "1****51"},
		{name: "zero value", id: ID{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.id.Masked()
			if got != tt.want {
				t.Errorf("%+v.Masked() = %q, want %q", tt.id, got, tt.want)
			}
			if len([]rune(got)) != len([]rune(tt.id.Number)) {
				t.Errorf("%+v.Masked() has %d runes, want %d", tt.id, len([]rune(got)), len([]rune(tt.id.Number)))
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "two han", in: "张三", want: "张三"},
		{name: "compound surname", in: "欧阳娜娜", want: "欧阳娜娜"},
		{name: "uyghur with middle dot", in: "阿依古丽·买买提", want: "阿依古丽·买买提"},
		{name: "bullet becomes middle dot", in: "阿依古丽•买买提", want: "阿依古丽·买买提"},
		{name: "han surrounded by space", in: "  张三\t", want: "张三"},
		{name: "han ideographic space around", in: "\u3000张三\u3000", want: "张三"},
		{name: "twenty han", in: strings.Repeat("张", 20), want: strings.Repeat("张", 20)},
		{name: "latin hyphen apostrophe", in: "Jean-Luc O'Neil", want: "Jean-Luc O'Neil"},
		{name: "latin curly apostrophe", in: "Jean-Luc O’Neil", want: "Jean-Luc O'Neil"},
		{name: "latin accented", in: "José Martínez", want: "José Martínez"},
		{name: "latin collapse spaces", in: "  John   Smith  ", want: "John Smith"},
		{name: "latin nbsp", in: "John\u00a0Smith", want: "John Smith"},
		{name: "latin period", in: "Martin L. King Jr.", want: "Martin L. King Jr."},
		{name: "latin one letter", in: "A", want: "A"},
		{name: "latin full-width", in: "Ｊｏｈｎ Ｓｍｉｔｈ", want: "John Smith"},
		{name: "latin sixty runes", in: strings.Repeat("a", 60), want: strings.Repeat("a", 60)},

		{name: "han with digit", in: "张三3", wantErr: true},
		{name: "latin with digit", in: "John2", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "only spaces", in: "   ", wantErr: true},
		{name: "single han", in: "张", wantErr: true},
		{name: "twenty-one han", in: strings.Repeat("张", 21), wantErr: true},
		{name: "sixty-one latin", in: strings.Repeat("a", 61), wantErr: true},
		{name: "emoji", in: "张三😀", wantErr: true},
		{name: "only emoji", in: "😀", wantErr: true},
		{name: "latin emoji", in: "John 😀", wantErr: true},
		{name: "leading middle dot", in: "·买买提", wantErr: true},
		{name: "trailing middle dot", in: "买买提·", wantErr: true},
		{name: "double middle dot", in: "阿依古丽··买买提", wantErr: true},
		{name: "space between han", in: "张 三", wantErr: true},
		{name: "mixed scripts", in: "张John", wantErr: true},
		{name: "latin then han", in: "John张", wantErr: true},
		{name: "starts with hyphen", in: "-John", wantErr: true},
		{name: "starts with apostrophe", in: "'John", wantErr: true},
		{name: "inner tab", in: "John\tSmith", wantErr: true},
		{name: "inner newline", in: "张\n三", wantErr: true},
		{name: "nul byte", in: "John\x00", wantErr: true},
		{name: "cyrillic", in: "Иван", wantErr: true},
		{name: "symbol", in: "John@Smith", wantErr: true},
		{name: "invalid utf8", in: "John\xff", wantErr: true},
		{name: "combining accent", in: "Jose\u0301", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidName) {
					t.Errorf("NormalizeName(%q) = %q, %v, want error %v", tt.in, got, err, ErrInvalidName)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeName(%q) error = %v, want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "two han", in: "张三", want: "张*"},
		{name: "three han", in: "张三丰", want: "张*丰"},
		{name: "four han", in: "欧阳娜娜", want: "欧**娜"},
		{name: "han with dot", in: "阿依古丽·买买提", want: "阿******提"},
		{name: "latin two words", in: "John Smith", want: "J*** S****"},
		{name: "latin hyphen and apostrophe", in: "Jean-Luc O'Neil", want: "J******* O*****"},
		{name: "latin accented", in: "José Martínez", want: "J*** M*******"},
		{name: "latin initial", in: "John A Smith", want: "J*** * S****"},
		{name: "one han", in: "张", want: "*"},
		{name: "one letter", in: "A", want: "*"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "bare", in: "13812345678", want: "13812345678"},
		{name: "plus 86 with dashes", in: "+86 138-1234-5678", want: "13812345678"},
		{name: "86 prefix", in: "8613812345678", want: "13812345678"},
		{name: "plus 86 no space", in: "+8619912345678", want: "19912345678"},
		{name: "spaces", in: " 138 1234 5678 ", want: "13812345678"},
		{name: "lowest prefix", in: "13000000000", want: "13000000000"},

		{name: "second digit 2", in: "12345678901", wantErr: true},
		{name: "second digit 0", in: "10012345678", wantErr: true},
		{name: "not starting with 1", in: "23812345678", wantErr: true},
		{name: "10 digits", in: "1381234567", wantErr: true},
		{name: "12 digits", in: "138123456789", wantErr: true},
		{name: "86 with 10 digits", in: "861381234567", wantErr: true},
		{name: "other country code", in: "+85291234567", wantErr: true},
		{name: "0086 prefix", in: "008613812345678", wantErr: true},
		{name: "landline", in: "010-12345678", wantErr: true},
		{name: "letters", in: "1381234567a", wantErr: true},
		{name: "parentheses", in: "(138)12345678", wantErr: true},
		{name: "full-width digits", in: "１３８１２３４５６７８", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidPhone) {
					t.Errorf("NormalizePhone(%q) = %q, %v, want error %v", tt.in, got, err, ErrInvalidPhone)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizePhone(%q) error = %v, want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "mobile", in: "13812345678", want: "138****5678"},
		{name: "longer", in: "8613812345678", want: "861******5678"},
		{name: "short", in: "12345", want: "*****"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i*7 + 250) // includes bytes that encode to + / - _ in base64
	}
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "standard base64", in: base64.StdEncoding.EncodeToString(key)},
		{name: "raw url base64", in: base64.RawURLEncoding.EncodeToString(key)},
		{name: "hex lower", in: hex.EncodeToString(key)},
		{name: "hex upper", in: strings.ToUpper(hex.EncodeToString(key))},
		{name: "trailing newline", in: base64.StdEncoding.EncodeToString(key) + "\n"},

		{name: "empty", in: "", wantErr: true},
		{name: "16 bytes base64", in: base64.StdEncoding.EncodeToString(key[:16]), wantErr: true},
		{name: "33 bytes base64", in: base64.StdEncoding.EncodeToString(append(key, 0)), wantErr: true},
		{name: "62 hex chars", in: hex.EncodeToString(key)[:62], wantErr: true},
		{name: "not encoded", in: "correct horse battery staple correct horse", wantErr: true},
		{name: "raw std base64 with slash", in: base64.RawStdEncoding.EncodeToString(key), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseKey(%q) = %x, want error", tt.in, got)
				}
				if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("ParseKey error %q echoes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey(%q) error = %v, want nil", tt.in, err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("ParseKey(%q) = %x, want %x", tt.in, got, key)
			}
		})
	}
}

func newTestKeyring(t testing.TB, fill byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatalf("NewKeyring error = %v, want nil", err)
	}
	return k
}

func TestNewKeyring(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{name: "32 bytes", size: 32},
		{name: "empty", size: 0, wantErr: true},
		{name: "16 bytes", size: 16, wantErr: true},
		{name: "64 bytes", size: 64, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(make([]byte, tt.size))
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("NewKeyring(%d bytes) error = %v, want error: %v", tt.size, err, tt.wantErr)
			}
		})
	}
}

func TestKeyringSubkeysIndependent(t *testing.T) {
	k := newTestKeyring(t, 1)
	master := bytes.Repeat([]byte{1}, KeySize)
	keys := map[string][]byte{
		"master": master, "hash": k.hashKey, "token": k.TokenKey(),
		"web csrf": k.SubKey("fairslot web csrf v1"), "other": k.SubKey("fairslot other v1"),
	}
	for a, ka := range keys {
		for b, kb := range keys {
			if a < b && bytes.Equal(ka, kb) {
				t.Errorf("%s key = %s key, want them to differ", a, b)
			}
		}
	}
	if !bytes.Equal(k.SubKey("x"), newTestKeyring(t, 1).SubKey("x")) || bytes.Equal(k.SubKey("x"), newTestKeyring(t, 2).SubKey("x")) {
		t.Errorf("SubKey is not a function of the master key and the info alone")
	}
	tk := k.TokenKey()
	tk[0] ^= 0xff
	if got, want := k.TokenKey(), k.tokenKey; !bytes.Equal(got, want) || bytes.Equal(tk, want) {
		t.Errorf("TokenKey returned the keyring's own slice, want a copy")
	}
}

func TestHash(t *testing.T) {
	k1 := newTestKeyring(t, 1)
	k1again := newTestKeyring(t, 1)
	k2 := newTestKeyring(t, 2)
	base := k1.Hash("name", "张三")
	tests := []struct {
		name     string
		got      []byte
		wantSame bool
	}{
		{name: "same input same key", got: k1.Hash("name", "张三"), wantSame: true},
		{name: "same master other keyring", got: k1again.Hash("name", "张三"), wantSame: true},
		{name: "other purpose", got: k1.Hash("phone", "张三")},
		{name: "other value", got: k1.Hash("name", "张四")},
		{name: "other master", got: k2.Hash("name", "张三")},
		{name: "separator is not ambiguous", got: k1.Hash("name\x00张", "三")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.got) != 32 {
				t.Fatalf("len(Hash) = %d, want 32", len(tt.got))
			}
			if got := bytes.Equal(tt.got, base); got != tt.wantSame {
				t.Errorf("Hash equal to base = %v, want %v", got, tt.wantSame)
			}
		})
	}
}

func TestIDHash(t *testing.T) {
	k := newTestKeyring(t, 1)
	id := ID{ResidentID, "11010519491231002X"}
	tests := []struct {
		name     string
		a, b     []byte
		wantSame bool
	}{
		{name: "matches Hash", a: k.IDHash(id), b: k.Hash("id", "resident_id:11010519491231002X"), wantSame: true},
		{name: "type matters", a: k.IDHash(ID{Passport, "E12345678"}), b: k.IDHash(ID{TaiwanPermit, "E12345678"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bytes.Equal(tt.a, tt.b); got != tt.wantSame {
				t.Errorf("IDHash equal = %v, want %v", got, tt.wantSame)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k := newTestKeyring(t, 1)
	other := newTestKeyring(t, 2)
	sealed := k.Seal("name", "阿依古丽·买买提")
	flipped := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name    string
		k       *Keyring
		purpose string
		sealed  []byte
		want    string
		wantErr bool
	}{
		{name: "roundtrip", k: k, purpose: "name", sealed: sealed, want: "阿依古丽·买买提"},
		{name: "empty plaintext", k: k, purpose: "name", sealed: k.Seal("name", ""), want: ""},
		{name: "wrong purpose", k: k, purpose: "id", sealed: sealed, wantErr: true},
		{name: "wrong key", k: other, purpose: "name", sealed: sealed, wantErr: true},
		{name: "flipped nonce byte", k: k, purpose: "name", sealed: flipped(0), wantErr: true},
		{name: "flipped ciphertext byte", k: k, purpose: "name", sealed: flipped(14), wantErr: true},
		{name: "flipped tag byte", k: k, purpose: "name", sealed: flipped(len(sealed) - 1), wantErr: true},
		{name: "truncated by one", k: k, purpose: "name", sealed: sealed[:len(sealed)-1], wantErr: true},
		{name: "only nonce", k: k, purpose: "name", sealed: sealed[:12], wantErr: true},
		{name: "empty", k: k, purpose: "name", sealed: nil, wantErr: true},
		{name: "extended", k: k, purpose: "name", sealed: append(bytes.Clone(sealed), 0), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.purpose, tt.sealed)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Open = %q, want error", got)
				}
				if strings.Contains(err.Error(), "买买提") {
					t.Errorf("Open error %q reveals the plaintext", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open error = %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("Open = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSealRandomized(t *testing.T) {
	k := newTestKeyring(t, 1)
	a, b := k.Seal("phone", "13812345678"), k.Seal("phone", "13812345678")
	if bytes.Equal(a, b) {
		t.Errorf("two Seals of the same value are equal, want them to differ")
	}
	if got, want := len(a), 12+len("13812345678")+16; got != want {
		t.Errorf("len(Seal) = %d, want %d", got, want)
	}
	if bytes.Contains(a, []byte("13812345678")) {
		t.Errorf("Seal output contains the plaintext")
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range [][2]string{
		{"resident_id", "11010519491231002X"},
		{"resident_id", "11010519491231002x"},
		{"resident_id", "99010519491231002X"},
		{"passport", "E12345678"},
		{"passport", " g1234 "},
		{"hk_macau_permit", "H1234567890"},
		{"taiwan_permit", "12345678"},
		{"foreign_permanent_id", "USA110070101001"},
		{"foreign_permanent_id", "933368198506200011"},
		{"nope", ""},
		{"passport", "ı12345678"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, typ, number string) {
		id, err := parse(typ, number, testNow())
		if err != nil {
			if !errors.Is(err, ErrInvalidType) && !errors.Is(err, ErrInvalidNumber) {
				t.Fatalf("parse(%q, %q) error = %v, want ErrInvalidType or ErrInvalidNumber", typ, number, err)
			}
			return
		}
		again, err := parse(string(id.Type), id.Number, testNow())
		if err != nil {
			t.Fatalf("parse(%q, %q) error = %v on its own output, want nil", id.Type, id.Number, err)
		}
		if again != id {
			t.Errorf("parse(%q, %q) = %+v, want %+v", id.Type, id.Number, again, id)
		}
		if m := id.Masked(); len(m) != len(id.Number) || m == id.Number {
			t.Errorf("%+v.Masked() = %q, want same length and different", id, m)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	for _, seed := range []string{"张三", " 阿依古丽•买买提 ", "Jean-Luc O’Neil", "Ｊｏｈｎ  Smith", "张三3", "😀", "\u3000"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeName(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("NormalizeName(%q) error = %v, want ErrInvalidName", in, err)
			}
			return
		}
		again, err := NormalizeName(got)
		if err != nil || again != got {
			t.Errorf("NormalizeName(%q) = %q, %v, want %q, nil", got, again, err, got)
		}
		_ = MaskName(got)
	})
}

// TestWithTokenKey: a token key of its own changes the login keys (the
// token key, the CSRF subkey) and nothing the data was made with.
func TestWithTokenKey(t *testing.T) {
	master, other := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	w, err := k.WithTokenKey(other)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(w.TokenKey(), k.TokenKey()) || bytes.Equal(w.LoginSubKey("csrf"), k.LoginSubKey("csrf")) {
		t.Error("the login keys did not change with the token key")
	}
	if !bytes.Equal(w.Hash("phone", "13800000000"), k.Hash("phone", "13800000000")) || !bytes.Equal(w.Fingerprint(), k.Fingerprint()) {
		t.Error("the hash key or the key check changed with the token key")
	}
	if got, err := w.Open("phone", k.Seal("phone", "13800000000")); err != nil || got != "13800000000" {
		t.Errorf("a value sealed before does not open: %q %v", got, err)
	}
	if _, err := k.WithTokenKey(master); err == nil {
		t.Error("the master key taken as the token key")
	}
}

func TestUnderAge(t *testing.T) {
	num := func(birth string) string {
		first := "110101" + birth + "003"
		return first + string(CheckDigit(first))
	}
	// 2026-12-06 00:30 UTC is 08:30 on 6 December in China.
	when := time.Date(2026, 12, 6, 0, 30, 0, 0, time.UTC)
	cases := []struct {
		name, typ, number string
		under, known      bool
	}{
		{"thirteen, fourteen tomorrow", "resident_id", num("20121207"), true, true},
		{"fourteen today in China", "resident_id", num("20121206"), false, true},
		{"fourteen yesterday", "resident_id", num("20121205"), false, true},
		{"an adult", "resident_id", num("19570101"), false, true},
		{"a newborn's certificate", "birth_certificate", "P440012345", true, true},
		{"a passport tells no age", "passport", "E12345678", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := Parse(c.typ, c.number)
			if err != nil {
				t.Fatal(err)
			}
			under, known := id.UnderAge(ChildAge, when)
			if under != c.under || known != c.known {
				t.Errorf("UnderAge = %v, %v; want %v, %v", under, known, c.under, c.known)
			}
		})
	}
}

func TestAgeReached(t *testing.T) {
	num := func(birth string) string {
		first := "110101" + birth + "003"
		return first + string(CheckDigit(first))
	}
	cases := []struct {
		name, typ, number, day string
		ok                     bool
	}{
		{"a birthday", "resident_id", num("20121207"), "2026-12-07", true},
		{"29 February in a common year", "resident_id", num("20120229"), "2026-03-01", true},
		{"a newborn's certificate carries no date", "birth_certificate", "P440012345", "", false},
		{"a passport tells no age", "passport", "E12345678", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := Parse(c.typ, c.number)
			if err != nil {
				t.Fatal(err)
			}
			day, ok := id.AgeReached(ChildAge)
			if day != c.day || ok != c.ok {
				t.Errorf("AgeReached = %q, %v; want %q, %v", day, ok, c.day, c.ok)
			}
		})
	}
}
