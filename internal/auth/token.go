// Package auth owns how callers prove who they are: hashing and checking
// account passwords, and minting and verifying the signed bearer tokens that
// every booking request carries.
//
// Tokens are stateless and signed with HMAC-SHA256, so the booking hot path
// can authenticate a request without a database or cache round trip. The
// price is that a token cannot be revoked before it expires, which is why
// token lifetimes should stay short.
package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"
)

// Errors returned by Verify. A token is reported as expired only after its
// signature checks out, so ErrExpiredToken always means a genuine token.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrExpiredToken = errors.New("token expired")
)

// Claims are what a verified token says about its bearer.
type Claims struct {
	AccountID string
	Role      string
	ExpiresAt time.Time
}

// Token layout. The payload is
//
//	version (1) | expiry unix seconds (8, big endian) | role length (1) | role |
//	account kind (1) | account id
//
// where the account id is 16 raw bytes for kind accountUUID, or a length
// byte and the raw string for kind accountRaw. Storing UUIDs as raw bytes
// keeps the token, which rides on every request, about 25 bytes shorter.
const (
	tokenVersion = 1

	accountUUID = 1
	accountRaw  = 2

	maxField   = 255 // longest role or raw account id, limited by its length byte
	minPayload = 1 + 8 + 1 + 1
	maxPayload = 1 + 8 + 1 + maxField + 1 + 1 + maxField

	// sigSize is the truncated HMAC length: 160 bits is far beyond what an
	// online forger can guess, and keeps the header short.
	sigSize = 20
)

// Signer mints and verifies bearer tokens with one HMAC key. A Signer is
// safe for concurrent use and must not be copied.
type Signer struct {
	ttl time.Duration
	enc *base64.Encoding
	// scratch pools the HMAC state and buffers that Verify needs, so
	// verifying a token costs one allocation (the claim strings).
	scratch sync.Pool
}

type scratch struct {
	mac     hash.Hash
	sum     [sha256.Size]byte
	sig     [sigSize]byte
	payload [maxPayload]byte
}

// NewSigner returns a Signer that signs with key and mints tokens valid for
// ttl. The key should be identity.Keyring.TokenKey. NewSigner panics if key
// is shorter than 32 bytes or ttl is not positive: both are configuration
// mistakes that must stop the service from starting, not surface per request.
func NewSigner(key []byte, ttl time.Duration) *Signer {
	if len(key) < 32 {
		panic("auth: token signing key must be at least 32 bytes")
	}
	if ttl <= 0 {
		panic("auth: token ttl must be positive")
	}
	key = bytes.Clone(key)
	s := &Signer{
		ttl: ttl,
		// Strict decoding rejects non-zero padding bits, so each token has
		// exactly one accepted spelling.
		enc: base64.RawURLEncoding.Strict(),
	}
	s.scratch.New = func() any {
		return &scratch{mac: hmac.New(sha256.New, key)}
	}
	return s
}

// Mint returns a token for the account and role that expires ttl after now,
// and that expiry. The expiry is truncated to whole seconds, as stored in
// the token. Mint panics if role or a non-UUID accountID is longer than 255
// bytes; both come from our own database, so that is a programming error.
func (s *Signer) Mint(accountID, role string, now time.Time) (token string, expiresAt time.Time) {
	if len(role) > maxField {
		panic("auth: role longer than 255 bytes")
	}
	exp := now.Add(s.ttl).Unix()

	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	p := sc.payload[:0]
	p = append(p, tokenVersion)
	p = binary.BigEndian.AppendUint64(p, uint64(exp))
	p = append(p, byte(len(role)))
	p = append(p, role...)
	if u, ok := parseUUID(accountID); ok {
		p = append(p, accountUUID)
		p = append(p, u[:]...)
	} else {
		if len(accountID) > maxField {
			panic("auth: account id longer than 255 bytes")
		}
		p = append(p, accountRaw, byte(len(accountID)))
		p = append(p, accountID...)
	}

	t := make([]byte, 0, s.enc.EncodedLen(len(p))+1+s.enc.EncodedLen(sigSize))
	t = s.enc.AppendEncode(t, p)
	t = append(t, '.')
	t = s.enc.AppendEncode(t, s.sign(sc, p))
	return string(t), time.Unix(exp, 0).UTC()
}

// sign returns the truncated HMAC of payload, backed by sc.
func (s *Signer) sign(sc *scratch, payload []byte) []byte {
	sc.mac.Reset()
	sc.mac.Write(payload)
	return sc.mac.Sum(sc.sum[:0])[:sigSize]
}

// Verify checks a token's signature and expiry at now and returns its
// claims. Any malformed or forged token gives ErrInvalidToken, and a genuine
// token at or after its expiry gives ErrExpiredToken. It takes the token as
// bytes because that is how the HTTP layer holds the header.
func (s *Signer) Verify(token []byte, now time.Time) (Claims, error) {
	dot := bytes.IndexByte(token, '.')
	if dot < 0 {
		return Claims{}, ErrInvalidToken
	}
	encPayload, encSig := token[:dot], token[dot+1:]
	if len(encSig) != s.enc.EncodedLen(sigSize) || len(encPayload) > s.enc.EncodedLen(maxPayload) {
		return Claims{}, ErrInvalidToken
	}

	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	// The decoder silently skips CR and LF, so a short decode means the
	// token was padded with them; reject it rather than accept a second
	// spelling of the same token.
	n, err := s.enc.Decode(sc.payload[:], encPayload)
	if err != nil || n != s.enc.DecodedLen(len(encPayload)) {
		return Claims{}, ErrInvalidToken
	}
	m, err := s.enc.Decode(sc.sig[:], encSig)
	if err != nil || m != sigSize {
		return Claims{}, ErrInvalidToken
	}
	payload := sc.payload[:n]
	if !hmac.Equal(s.sign(sc, payload), sc.sig[:]) {
		return Claims{}, ErrInvalidToken
	}

	// The payload is authentic from here on, but is still parsed
	// defensively: a key shared with a buggy minter must not crash us.
	c, exp, ok := parsePayload(payload)
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	if now.Unix() >= exp {
		return Claims{}, ErrExpiredToken
	}
	return c, nil
}

// parsePayload decodes a signed payload into claims and the expiry in unix
// seconds.
func parsePayload(p []byte) (Claims, int64, bool) {
	if len(p) < minPayload || p[0] != tokenVersion {
		return Claims{}, 0, false
	}
	exp := int64(binary.BigEndian.Uint64(p[1:9]))
	roleLen := int(p[9])
	p = p[10:]
	if len(p) < roleLen+1 {
		return Claims{}, 0, false
	}
	role, kind, account := p[:roleLen], p[roleLen], p[roleLen+1:]

	// Build both strings in one allocation and slice it.
	var b strings.Builder
	switch kind {
	case accountUUID:
		if len(account) != 16 {
			return Claims{}, 0, false
		}
		b.Grow(uuidLen + len(role))
		writeUUID(&b, account)
	case accountRaw:
		if len(account) < 1 || len(account)-1 != int(account[0]) {
			return Claims{}, 0, false
		}
		account = account[1:]
		b.Grow(len(account) + len(role))
		b.Write(account)
	default:
		return Claims{}, 0, false
	}
	accountLen := b.Len()
	b.Write(role)
	s := b.String()
	return Claims{
		AccountID: s[:accountLen],
		Role:      s[accountLen:],
		ExpiresAt: time.Unix(exp, 0).UTC(),
	}, exp, true
}

const (
	uuidLen   = 36
	hexDigits = "0123456789abcdef"
)

// parseUUID parses the canonical lower-case form of a UUID. Other spellings
// (upper case, braces) are left to the raw encoding so that Verify returns
// exactly the account id that was minted.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != uuidLen {
		return u, false
	}
	j := 0
	for i := 0; i < uuidLen; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		hi, lo := strings.IndexByte(hexDigits, s[i]), strings.IndexByte(hexDigits, s[i+1])
		if hi < 0 || lo < 0 {
			return u, false
		}
		u[j] = byte(hi<<4 | lo)
		j++
		i += 2
	}
	return u, true
}

// writeUUID writes 16 bytes in canonical UUID form.
func writeUUID(b *strings.Builder, u []byte) {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
}
