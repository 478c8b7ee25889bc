// Package cardreader is the desk card readers' signature (review25 H1): a
// reader's driver signs each read of an ID document with the key the
// hospital registered the reader under, and the service checks it
// (booking.CardSigner). The signature is HMAC-SHA256 over one canonical
// line per field, so no field's text can pose as another's.
package cardreader

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"fairslot/internal/booking"
)

// HMAC is booking.CardSigner: HMAC-SHA256 under the reader's key.
type HMAC struct{}

// Sign is the MAC of read r under key: over "fairslot-card-read/1", the
// document's type, its number and the name as the reader read them (as the
// request carries them), and the read time in Unix seconds, each on a line.
func (HMAC) Sign(key []byte, r booking.SignedRead) []byte {
	m := hmac.New(sha256.New, key)
	for _, f := range []string{"fairslot-card-read/1", r.IDType, r.IDNumber, r.Name, strconv.FormatInt(r.ReadAt.Unix(), 10)} {
		m.Write([]byte(f))
		m.Write([]byte{'\n'})
	}
	return m.Sum(nil)
}

// Read is what a reader's driver puts in a desk request's card marker for
// a read: the reader's id, the read time (RFC 3339) and the MAC (hex),
// from the reader's key (hex, as shown at its registration).
func Read(readerID, keyHex, idType, idNumber, name string, at time.Time) (map[string]any, error) {
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		return nil, err
	}
	at = at.Truncate(time.Second)
	mac := HMAC{}.Sign(key, booking.SignedRead{IDType: idType, IDNumber: idNumber, Name: name, ReadAt: at})
	return map[string]any{"source": "reader", "reader_id": readerID, "read_at": at.Format(time.RFC3339), "mac": hex.EncodeToString(mac)}, nil
}
