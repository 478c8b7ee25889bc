package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrWeakPassword is returned for passwords outside the accepted length.
var ErrWeakPassword = errors.New("password must be 8 to 72 characters")

// ErrPasswordText is returned for a password that is not valid UTF-8 text
// without control characters. Bad bytes are refused rather than replaced:
// replacing them (as JSON decoders do, with U+FFFD) would make different
// passwords one.
var ErrPasswordText = errors.New("password must be valid UTF-8 text without control characters")

// DefaultIterations is the PBKDF2-HMAC-SHA256 iteration count production
// uses, as recommended by OWASP in 2023. Tests may pass fewer, down to
// MinIterations, to stay fast.
const DefaultIterations = 600_000

// Iteration bounds. The upper bound keeps a corrupted or hostile stored
// hash from turning one login into minutes of CPU.
const (
	MinIterations = 1_000
	MaxIterations = 10_000_000
)

const (
	passwordScheme = "pbkdf2-sha256"
	saltSize       = 16
	derivedSize    = 32
)

// CheckPassword reports whether pw is acceptable as a new password: 8 to 72
// characters. The upper bound matches bcrypt's so that accounts can move
// between schemes, and it caps the work done for a single login.
func CheckPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return ErrPasswordText
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || 0x80 <= r && r < 0xa0 {
			return ErrPasswordText
		}
	}
	if n := utf8.RuneCountInString(pw); n < 8 || n > 72 {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword checks pw with CheckPassword and hashes it with
// PBKDF2-HMAC-SHA256 and a random 16-byte salt, returning
// "pbkdf2-sha256$<iterations>$<salt>$<key>" with unpadded standard base64.
// The iteration count is stored so it can be raised later without
// invalidating existing hashes. Production passes DefaultIterations.
func HashPassword(pw string, iterations int) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return "", fmt.Errorf("hash password: %d iterations is outside %d to %d", iterations, MinIterations, MaxIterations)
	}
	salt := make([]byte, saltSize)
	rand.Read(salt) // never fails; it crashes the program instead
	key, err := pbkdf2.Key(sha256.New, pw, salt, iterations, derivedSize)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return passwordScheme + "$" + strconv.Itoa(iterations) + "$" +
		base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(key), nil
}

// VerifyPassword reports whether pw matches a hash from HashPassword. Any
// malformed hash gives false, so a damaged record locks the account rather
// than opening it.
func VerifyPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != passwordScheme {
		return false
	}
	iterations, ok := parseIterations(parts[1])
	if !ok {
		return false
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err := enc.DecodeString(parts[2])
	if err != nil || len(salt) != saltSize || strings.ContainsAny(parts[2], "\r\n") {
		return false
	}
	want, err := enc.DecodeString(parts[3])
	if err != nil || len(want) != derivedSize || strings.ContainsAny(parts[3], "\r\n") {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pw, salt, iterations, derivedSize)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// parseIterations accepts only the plain decimal form HashPassword writes,
// without sign or leading zeros, within the iteration bounds.
func parseIterations(s string) (int, bool) {
	if s == "" || len(s) > 8 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < MinIterations || n > MaxIterations {
		return 0, false
	}
	return n, true
}
