package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

const testAccount = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

func testKey(fill byte) []byte { return bytes.Repeat([]byte{fill}, 32) }

func testTime() time.Time { return time.Date(2025, time.June, 15, 8, 30, 0, 0, time.UTC) }

// signRaw builds a correctly signed token around an arbitrary payload, to
// test that Verify parses authentic but malformed payloads safely.
func signRaw(key, payload []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(m.Sum(nil)[:20])
}

// payload builds a version-1 payload; account is appended as given.
func payload(exp time.Time, role string, account ...byte) []byte {
	p := []byte{1}
	p = binary.BigEndian.AppendUint64(p, uint64(exp.Unix()))
	p = append(p, byte(len(role)))
	p = append(p, role...)
	return append(p, account...)
}

func TestMintVerify(t *testing.T) {
	s := NewSigner(testKey(1), 15*time.Minute)
	now := testTime()
	tests := []struct {
		name    string
		account string
		role    string
	}{
		{name: "uuid patient", account: testAccount, role: "patient"},
		{name: "uuid empty role", account: testAccount, role: ""},
		{name: "upper-case uuid kept as is", account: strings.ToUpper(testAccount), role: "staff"},
		{name: "nil uuid", account: "00000000-0000-0000-0000-000000000000", role: "admin"},
		{name: "non-uuid id", account: "acct-42", role: "patient"},
		{name: "empty id", account: "", role: "patient"},
		{name: "15-byte raw id", account: "abcdefghijklmno", role: "patient"},
		{name: "uuid-length non-hex", account: "3f2504e0-4f89-41d3-9a0c-0305e82c330g", role: "patient"},
		{name: "longest fields", account: strings.Repeat("a", 255), role: strings.Repeat("r", 255)},
		{name: "unicode role", account: testAccount, role: "医生"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, exp := s.Mint(tt.account, tt.role, now)
			if want := now.Add(15 * time.Minute); !exp.Equal(want) {
				t.Errorf("Mint expiresAt = %v, want %v", exp, want)
			}
			got, err := s.Verify([]byte(token), now)
			if err != nil {
				t.Fatalf("Verify(%q) error = %v, want nil", token, err)
			}
			want := Claims{AccountID: tt.account, Role: tt.role, ExpiresAt: exp}
			if got != want {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

// TestMintClaimsRoundTrip: a token naming a hospital and a generation
// verifies to exactly those claims; one with neither is the version 1 token
// Mint makes.
func TestMintClaimsRoundTrip(t *testing.T) {
	s := NewSigner(testKey(1), time.Hour)
	now := testTime()
	for _, c := range []Claims{
		{AccountID: testAccount, Role: "clerk", HospitalID: "6f1c2c0e-8a4b-4c1e-9d2a-3b4c5d6e7f80", Generation: 3},
		{AccountID: testAccount, Role: "patient", Generation: 1},
		{AccountID: "acct-raw", Role: "admin", HospitalID: "h-raw"},
		{AccountID: testAccount, Role: "patient"},
	} {
		tok, exp := s.MintClaims(c, now)
		got, err := s.Verify([]byte(tok), now)
		c.ExpiresAt = exp
		if err != nil || got != c {
			t.Errorf("MintClaims(%+v) verifies to %+v, %v; want the same claims", c, got, err)
		}
		if c.Generation == 0 && c.HospitalID == "" {
			if v1, _ := s.Mint(c.AccountID, c.Role, now); v1 != tok {
				t.Errorf("MintClaims without generation or hospital = %q, want Mint's %q", tok, v1)
			}
		}
	}
}

func TestMintTruncatesExpiry(t *testing.T) {
	s := NewSigner(testKey(1), time.Minute)
	now := testTime().Add(700 * time.Millisecond)
	_, got := s.Mint(testAccount, "patient", now)
	if want := testTime().Add(time.Minute); !got.Equal(want) {
		t.Errorf("Mint expiresAt = %v, want %v", got, want)
	}
}

func TestUUIDTokenIsCompact(t *testing.T) {
	s := NewSigner(testKey(1), time.Minute)
	token, _ := s.Mint(testAccount, "patient", testTime())
	// 1+8+1+7+1+16 = 34 payload bytes -> 46 chars, a dot, 27 signature chars.
	if got, want := len(token), 46+1+27; got != want {
		t.Errorf("len(token) = %d, want %d", got, want)
	}
}

func TestVerifyRejects(t *testing.T) {
	key := testKey(1)
	s := NewSigner(key, 15*time.Minute)
	now := testTime()
	good, exp := s.Mint(testAccount, "patient", now)
	dot := strings.IndexByte(good, '.')
	goodPayload, goodSig := good[:dot], good[dot+1:]

	// A payload claiming "admin", paired with the genuine signature.
	forged := payload(exp, "admin", append([]byte{1}, make([]byte, 16)...)...)
	tamperedPayload := base64.RawURLEncoding.EncodeToString(forged) + "." + goodSig

	flipLast := func(s string) string {
		c := byte('A')
		if s[len(s)-1] == 'A' {
			c = 'B'
		}
		return s[:len(s)-1] + string(c)
	}
	later := now.Add(time.Hour)
	uuidAccount := append([]byte{1}, make([]byte, 16)...)

	tests := []struct {
		name    string
		token   string
		now     time.Time
		wantErr error
	}{
		{name: "expired", token: good, now: now.Add(15 * time.Minute), wantErr: ErrExpiredToken},
		{name: "long expired", token: good, now: now.Add(24 * time.Hour), wantErr: ErrExpiredToken},
		{name: "tampered payload", token: tamperedPayload, now: now, wantErr: ErrInvalidToken},
		{name: "tampered signature", token: goodPayload + "." + flipLast(goodSig), now: now, wantErr: ErrInvalidToken},
		{name: "wrong key", token: signRaw(testKey(2), payload(later, "patient", uuidAccount...)), now: now, wantErr: ErrInvalidToken},
		{name: "wrong key and expired", token: signRaw(testKey(2), payload(now, "patient", uuidAccount...)), now: later, wantErr: ErrInvalidToken},
		{name: "empty", token: "", now: now, wantErr: ErrInvalidToken},
		{name: "no dot", token: goodPayload + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "only dot", token: ".", now: now, wantErr: ErrInvalidToken},
		{name: "two dots", token: good + ".", now: now, wantErr: ErrInvalidToken},
		{name: "bad base64 payload", token: "!!!!." + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "bad base64 signature", token: goodPayload + "." + strings.Repeat("*", len(goodSig)), now: now, wantErr: ErrInvalidToken},
		{name: "padded base64", token: goodPayload + "==." + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "standard alphabet", token: goodPayload + ".+" + goodSig[1:], now: now, wantErr: ErrInvalidToken},
		{name: "newline in payload", token: goodPayload[:4] + "\n" + goodPayload[4:] + "." + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "non-zero padding bits in signature", token: goodPayload + "." + flipPaddingBit(goodSig), now: now, wantErr: ErrInvalidToken},
		{name: "truncated payload", token: goodPayload[:len(goodPayload)-4] + "." + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "truncated signature", token: goodPayload + "." + goodSig[:len(goodSig)-1], now: now, wantErr: ErrInvalidToken},
		{name: "huge payload", token: strings.Repeat("A", 100_000) + "." + goodSig, now: now, wantErr: ErrInvalidToken},
		{name: "bearer prefix left on", token: "Bearer " + good, now: now, wantErr: ErrInvalidToken},

		// Correctly signed but malformed payloads.
		{name: "signed empty payload", token: signRaw(key, nil), now: now, wantErr: ErrInvalidToken},
		{name: "signed version 3", token: signRaw(key, append([]byte{3}, payload(later, "patient", uuidAccount...)[1:]...)), now: now, wantErr: ErrInvalidToken},
		{name: "signed version 2 in version 1's layout", token: signRaw(key, append([]byte{2}, payload(later, "patient", uuidAccount...)[1:]...)), now: now, wantErr: ErrInvalidToken},
		{name: "signed payload cut in expiry", token: signRaw(key, payload(later, "patient")[:5]), now: now, wantErr: ErrInvalidToken},
		{name: "signed role length past end", token: signRaw(key, payload(later, "patient")[:12]), now: now, wantErr: ErrInvalidToken},
		{name: "signed no account kind", token: signRaw(key, payload(later, "patient")), now: now, wantErr: ErrInvalidToken},
		{name: "signed unknown account kind", token: signRaw(key, payload(later, "patient", 9, 'x')), now: now, wantErr: ErrInvalidToken},
		{name: "signed short uuid", token: signRaw(key, payload(later, "patient", uuidAccount[:16]...)), now: now, wantErr: ErrInvalidToken},
		{name: "signed uuid trailing byte", token: signRaw(key, payload(later, "patient", append(uuidAccount, 0)...)), now: now, wantErr: ErrInvalidToken},
		{name: "signed raw without length", token: signRaw(key, payload(later, "patient", 2)), now: now, wantErr: ErrInvalidToken},
		{name: "signed raw length too long", token: signRaw(key, payload(later, "patient", 2, 5, 'a', 'b')), now: now, wantErr: ErrInvalidToken},
		{name: "signed raw length too short", token: signRaw(key, payload(later, "patient", 2, 1, 'a', 'b')), now: now, wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Verify([]byte(tt.token), tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify(%q) = %+v, %v, want error %v", tt.token, got, err, tt.wantErr)
			}
			if got != (Claims{}) {
				t.Errorf("Verify(%q) claims = %+v, want zero value", tt.token, got)
			}
		})
	}
}

// flipPaddingBit changes the last character of an unpadded base64 string so
// that only its unused low bit differs: a lenient decoder would still decode
// it to the same bytes.
func flipPaddingBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}

func TestVerifyExpiryBoundary(t *testing.T) {
	s := NewSigner(testKey(1), time.Minute)
	now := testTime()
	token, exp := s.Mint(testAccount, "patient", now)
	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{name: "just minted", now: now},
		{name: "one nanosecond before expiry", now: exp.Add(-time.Nanosecond)},
		{name: "at expiry", now: exp, wantErr: ErrExpiredToken},
		{name: "after expiry", now: exp.Add(time.Second), wantErr: ErrExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Verify([]byte(token), tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify at %v error = %v, want %v", tt.now, err, tt.wantErr)
			}
		})
	}
}

func TestNewSignerPanics(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		ttl  time.Duration
	}{
		{name: "short key", key: make([]byte, 16), ttl: time.Minute},
		{name: "nil key", key: nil, ttl: time.Minute},
		{name: "zero ttl", key: testKey(1), ttl: 0},
		{name: "negative ttl", key: testKey(1), ttl: -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewSigner(%d-byte key, %v) did not panic, want panic", len(tt.key), tt.ttl)
				}
			}()
			NewSigner(tt.key, tt.ttl)
		})
	}
}

func TestNewSignerCopiesKey(t *testing.T) {
	key := testKey(1)
	s := NewSigner(key, time.Minute)
	token, _ := s.Mint(testAccount, "patient", testTime())
	key[0] ^= 0xff
	if _, err := s.Verify([]byte(token), testTime()); err != nil {
		t.Errorf("Verify after caller changed its key slice error = %v, want nil", err)
	}
}

func FuzzVerify(f *testing.F) {
	key := testKey(1)
	s := NewSigner(key, time.Hour)
	good, _ := s.Mint(testAccount, "patient", testTime())
	raw, _ := s.Mint("acct-42", "admin", testTime())
	v2, _ := s.MintClaims(Claims{AccountID: testAccount, Role: "clerk", HospitalID: testAccount, Generation: 7}, testTime())
	v2raw, _ := s.MintClaims(Claims{AccountID: "a", Role: "patient", Generation: 1}, testTime())
	for _, seed := range []string{
		good, raw, v2, v2raw, "", ".", "a.b", good + ".", strings.ToUpper(good),
		signRaw(key, nil),
		signRaw(key, payload(testTime().Add(time.Hour), "patient", 2, 200)),
		signRaw(key, payload(testTime().Add(time.Hour), "patient", 1)),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		c, err := s.Verify(token, testTime())
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpiredToken) {
				t.Fatalf("Verify(%q) error = %v, want ErrInvalidToken or ErrExpiredToken", token, err)
			}
			return
		}
		// A token the fuzzer found valid must be re-mintable to the same
		// claims; anything else would mean two encodings of one identity.
		again, _ := s.MintClaims(c, c.ExpiresAt.Add(-time.Hour))
		if again != string(token) {
			t.Errorf("Verify accepted %q, but minting its claims gives %q", token, again)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	s := NewSigner(testKey(1), 15*time.Minute)
	now := testTime()
	token, _ := s.Mint(testAccount, "patient", now)
	tb := []byte(token)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tb, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	s := NewSigner(testKey(1), 15*time.Minute)
	now := testTime()
	b.ReportAllocs()
	for b.Loop() {
		s.Mint(testAccount, "patient", now)
	}
}
