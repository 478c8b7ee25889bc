// Package auth owns how callers prove who they are: hashing and checking
// account passwords, and minting and verifying the signed bearer tokens that
// every booking request carries.
//
// Tokens are stateless and signed with HMAC-SHA256, so the booking hot path
// can authenticate a request without a database or cache round trip. A
// token carries its account's generation: the service revokes every token of
// an account (logout, a password change) by raising the generation and
// refusing older ones, from a list every instance keeps in memory.
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
	// HospitalID is the hospital a staff member works for ("" for none).
	HospitalID string
	// Generation is the account's token generation when the token was made.
	Generation uint32
	ExpiresAt  time.Time
}

// Token layout. The payload of version 1 (generation 0, no hospital) is
//
//	version (1) | expiry unix seconds (8, big endian) | role length (1) | role |
//	account kind (1) | account id
//
// and of version 2
//
//	version (2) | expiry (8) | generation (4, big endian) | role length (1) | role |
//	hospital kind (1) | hospital id | account kind (1) | account id
//
// where an id is 16 raw bytes for kind accountUUID, a length byte and the raw
// string for kind accountRaw, and nothing for kind noID (a hospital only).
// Storing UUIDs as raw bytes keeps the token, which rides on every request,
// about 25 bytes shorter; version 1 stays the shortest form of the most
// common token, a patient's first login.
const (
	tokenVersion   = 1
	tokenVersionV2 = 2

	noID        = 0
	accountUUID = 1
	accountRaw  = 2

	maxField   = 255 // longest role or raw id, limited by its length byte
	minPayload = 1 + 8 + 1 + 1
	maxPayload = 1 + 8 + 4 + 1 + maxField + 1 + 1 + maxField + 1 + 1 + maxField

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
	return s.MintClaims(Claims{AccountID: accountID, Role: role}, now)
}

// MintClaims is Mint for a token that may also name a hospital and a token
// generation; c.ExpiresAt is ignored (the token expires ttl after now).
func (s *Signer) MintClaims(c Claims, now time.Time) (token string, expiresAt time.Time) {
	if len(c.Role) > maxField {
		panic("auth: role longer than 255 bytes")
	}
	exp := now.Add(s.ttl).Unix()

	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	p := sc.payload[:0]
	v2 := c.Generation != 0 || c.HospitalID != ""
	if v2 {
		p = append(p, tokenVersionV2)
	} else {
		p = append(p, tokenVersion)
	}
	p = binary.BigEndian.AppendUint64(p, uint64(exp))
	if v2 {
		p = binary.BigEndian.AppendUint32(p, c.Generation)
	}
	p = append(p, byte(len(c.Role)))
	p = append(p, c.Role...)
	if v2 {
		if c.HospitalID == "" {
			p = append(p, noID)
		} else {
			p = appendID(p, c.HospitalID)
		}
	}
	p = appendID(p, c.AccountID)

	t := make([]byte, 0, s.enc.EncodedLen(len(p))+1+s.enc.EncodedLen(sigSize))
	t = s.enc.AppendEncode(t, p)
	t = append(t, '.')
	t = s.enc.AppendEncode(t, s.sign(sc, p))
	return string(t), time.Unix(exp, 0).UTC()
}

// appendID appends an id: 16 raw bytes for a canonical UUID, else its
// length and bytes.
func appendID(p []byte, id string) []byte {
	if u, ok := parseUUID(id); ok {
		p = append(p, accountUUID)
		return append(p, u[:]...)
	}
	if len(id) > maxField {
		panic("auth: id longer than 255 bytes")
	}
	p = append(p, accountRaw, byte(len(id)))
	return append(p, id...)
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

	// The decoder silently skips CR and LF: refuse them outright rather
	// than accept a second spelling of the same token. (Comparing decoded
	// lengths missed one CR where the length rounds down; the fuzzer found
	// it, testdata/fuzz/FuzzVerify.)
	if bytes.ContainsAny(token, "\r\n") {
		return Claims{}, ErrInvalidToken
	}
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
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
	if len(p) < minPayload || p[0] != tokenVersion && p[0] != tokenVersionV2 {
		return Claims{}, 0, false
	}
	v2 := p[0] == tokenVersionV2
	exp := int64(binary.BigEndian.Uint64(p[1:9]))
	p = p[9:]
	var gen uint32
	if v2 {
		if len(p) < 4 {
			return Claims{}, 0, false
		}
		gen, p = binary.BigEndian.Uint32(p[:4]), p[4:]
	}
	if len(p) < 1 {
		return Claims{}, 0, false
	}
	roleLen := int(p[0])
	p = p[1:]
	if len(p) < roleLen+1 {
		return Claims{}, 0, false
	}
	role, p := p[:roleLen], p[roleLen:]
	var hospital []byte
	hospitalUUID, hospitalSet := false, false
	if v2 {
		var ok bool
		if hospital, hospitalUUID, p, ok = cutID(p, true); !ok || hospital != nil && len(hospital) == 0 {
			return Claims{}, 0, false
		}
		hospitalSet = hospital != nil
		if len(p) < 1 {
			return Claims{}, 0, false
		}
	}
	account, accountIsUUID, rest, ok := cutID(p, false)
	if !ok || len(rest) != 0 {
		return Claims{}, 0, false
	}
	if v2 && gen == 0 && !hospitalSet {
		return Claims{}, 0, false // version 1 is the one spelling of such a token
	}

	// Build the strings in one allocation and slice it.
	var b strings.Builder
	b.Grow(uuidLen*2 + len(role))
	writeID(&b, account, accountIsUUID)
	accountLen := b.Len()
	writeID(&b, hospital, hospitalUUID)
	hospitalLen := b.Len() - accountLen
	b.Write(role)
	s := b.String()
	return Claims{
		AccountID:  s[:accountLen],
		HospitalID: s[accountLen : accountLen+hospitalLen],
		Role:       s[accountLen+hospitalLen:],
		Generation: gen,
		ExpiresAt:  time.Unix(exp, 0).UTC(),
	}, exp, true
}

// cutID reads one id at the start of p: its bytes, whether they are a raw
// UUID, and the rest of p. noID (nil bytes) is allowed only if optional.
func cutID(p []byte, optional bool) (id []byte, isUUID bool, rest []byte, ok bool) {
	if len(p) < 1 {
		return nil, false, nil, false
	}
	switch kind, p := p[0], p[1:]; kind {
	case noID:
		return nil, false, p, optional
	case accountUUID:
		if len(p) < 16 {
			return nil, false, nil, false
		}
		return p[:16], true, p[16:], true
	case accountRaw:
		if len(p) < 1 || len(p)-1 < int(p[0]) {
			return nil, false, nil, false
		}
		n := int(p[0])
		return p[1 : 1+n], false, p[1+n:], true
	}
	return nil, false, nil, false
}

// writeID writes an id as cutID found it.
func writeID(b *strings.Builder, id []byte, isUUID bool) {
	if isUUID {
		writeUUID(b, id)
		return
	}
	b.Write(id)
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
