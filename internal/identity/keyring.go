package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of the master key and of every subkey.
const KeySize = 32

// HKDF info strings; the version suffix lets a subkey be rotated without
// changing the master key.
const (
	infoIDHash = "fairslot id-hash v1"
	infoSeal   = "fairslot seal v1"
	infoToken  = "fairslot token v1"
)

// ParseKey decodes a 32-byte master key from configuration. It accepts
// standard base64, unpadded URL-safe base64 or 64 hex characters, the forms
// that `openssl rand` and common secret managers produce. Surrounding space
// is ignored because keys read from files usually end with a newline.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.Strict().DecodeString,
		base64.RawURLEncoding.Strict().DecodeString,
	}
	for _, decode := range decoders {
		if k, err := decode(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	// The decoder errors are dropped on purpose: they can quote the
	// offending part of the key.
	return nil, errors.New("parse key: want 32 bytes as standard base64, raw URL-safe base64 or 64 hex characters")
}

// Keyring holds the subkeys derived from the master key. Deriving separate
// keys for hashing, sealing and tokens means a weakness in one use cannot
// leak material usable by another. A Keyring is safe for concurrent use.
type Keyring struct {
	master   []byte
	hashKey  []byte
	seal     cipher.AEAD
	tokenKey []byte
	// logins is the secret the login keys (TokenKey, LoginSubKey) derive
	// from: the master key, or a token key of its own (WithTokenKey).
	logins []byte
}

// NewKeyring derives the subkeys from a 32-byte master key with HKDF-SHA256.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("new keyring: master key is %d bytes, want %d", len(master), KeySize)
	}
	derive := func(info string) ([]byte, error) {
		k, err := hkdf.Key(sha256.New, master, nil, info, KeySize)
		if err != nil {
			return nil, fmt.Errorf("new keyring: derive %q: %w", info, err)
		}
		return k, nil
	}
	hashKey, err := derive(infoIDHash)
	if err != nil {
		return nil, err
	}
	sealKey, err := derive(infoSeal)
	if err != nil {
		return nil, err
	}
	tokenKey, err := derive(infoToken)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	// The random-nonce GCM prepends a fresh 12-byte nonce on every Seal,
	// so callers cannot reuse a nonce by mistake.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	m := append([]byte(nil), master...)
	return &Keyring{master: m, hashKey: hashKey, seal: aead, tokenKey: tokenKey, logins: m}, nil
}

// WithTokenKey is k with its login keys — the bearer tokens' signing key
// and the consoles' CSRF key (LoginSubKey) — derived from a 32-byte key of
// their own instead of the master key. Replacing that key ends every login
// and breaks nothing else, so a leaked master key stops forging logins
// once a new token key is in place (docs/security.md, "Keys"). Hashes and
// sealed values stay the master key's.
func (k *Keyring) WithTokenKey(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("token key is %d bytes, want %d", len(key), KeySize)
	}
	if hmac.Equal(key, k.master) {
		return nil, errors.New("the token key is the master key: make a key of its own")
	}
	tokenKey, err := hkdf.Key(sha256.New, key, nil, infoToken, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive the token key: %w", err)
	}
	c := *k
	c.tokenKey, c.logins = tokenKey, append([]byte(nil), key...)
	return &c, nil
}

// LoginSubKey derives a key for another part of logging in (the web
// consoles' CSRF tokens), named by info, from the secret the token key
// comes from: it changes with WithTokenKey.
func (k *Keyring) LoginSubKey(info string) []byte {
	sub, err := hkdf.Key(sha256.New, k.logins, nil, info, KeySize)
	if err != nil {
		panic(fmt.Sprintf("identity: derive %q: %v", info, err)) // SHA-256 never refuses 32 bytes
	}
	return sub
}

// Hash returns a keyed, deterministic 32-byte digest of value, for looking
// up a patient by a sensitive value without storing the value. The purpose
// separates digests of different kinds of value, so equal strings used for
// different things (say a name and a passport number) never collide.
func (k *Keyring) Hash(purpose, value string) []byte {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// IDHash returns the lookup digest of an identity document. Pass IDs from
// Parse, so the same document always hashes the same.
func (k *Keyring) IDHash(id ID) []byte {
	return k.Hash("id", string(id.Type)+":"+id.Number)
}

// Seal encrypts plaintext with AES-256-GCM and returns nonce || ciphertext.
// The purpose is authenticated as additional data, so a value sealed for one
// purpose (a name) cannot be passed off as another (an ID number). Sealing
// the same value twice gives different results.
func (k *Keyring) Seal(purpose, plaintext string) []byte {
	return k.seal.Seal(nil, nil, []byte(plaintext), []byte(purpose))
}

// Open decrypts a value from Seal. It fails if the value was modified,
// truncated, sealed under another key or sealed for another purpose; the
// error says nothing about the plaintext.
func (k *Keyring) Open(purpose string, sealed []byte) (string, error) {
	p, err := k.seal.Open(nil, nil, sealed, []byte(purpose))
	if err != nil {
		return "", fmt.Errorf("open %q: message authentication failed", purpose)
	}
	return string(p), nil
}

// SubKey derives a KeySize-byte key for another use of the master key (the
// web consoles' CSRF tokens), named by info; like every subkey here it
// reveals nothing of the master key or of the other subkeys.
func (k *Keyring) SubKey(info string) []byte {
	sub, err := hkdf.Key(sha256.New, k.master, nil, info, KeySize)
	if err != nil {
		panic(fmt.Sprintf("identity: derive %q: %v", info, err)) // SHA-256 never refuses 32 bytes
	}
	return sub
}

// Fingerprint is a digest that names the master key without revealing it
// or any subkey: a database records the one it was first served with, and
// a service started with another key is refused before it hashes a phone.
func (k *Keyring) Fingerprint() []byte {
	m := hmac.New(sha256.New, k.SubKey("fairslot key check v1"))
	m.Write([]byte("fairslot master key"))
	return m.Sum(nil)
}

// TokenKey returns the subkey for signing bearer tokens (see package auth).
// It returns a copy, so the caller cannot alter the keyring.
func (k *Keyring) TokenKey() []byte {
	return append([]byte(nil), k.tokenKey...)
}
