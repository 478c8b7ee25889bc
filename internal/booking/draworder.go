package booking

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
)

// The drawn order of a lottery pool, computed from the revealed seed and the
// entries alone, so that anyone holding both can compute it again
// (`fairslot lottery verify`, or the few lines of Python in docs/design.md).
// It is plain SHA-256 throughout, not a Go random number generator, so the
// recipe does not depend on Go:
//
//  1. The eligible entry ids (lower-case UUIDs) sorted ascending as strings.
//  2. digest = SHA-256 of the sorted ids, each followed by "\n".
//  3. key = SHA-256 of the text "fairslot lottery v1\n" + session id + "\n" +
//     channel + "\n" + hex(seed) + "\n" + hex(digest).
//  4. A stream of 64-bit words: block k (k = 0, 1, …) is SHA-256(key ‖ k as
//     8 bytes big-endian), read as four big-endian 64-bit words.
//  5. Fisher–Yates over the sorted ids: for i from n−1 down to 1, j is
//     uniform in [0, i] (reject words ≥ 2^64 − (2^64 mod (i+1)), then
//     j = word mod (i+1)), and ids i and j swap places.
//  6. The drawn order is the list after the shuffle, first place first. The
//     pool's slots go to the entries in that order.
//
// The key depends on the whole entry list as well as on the seed, so nobody
// can tell any entry's place before the list is final, not even with the
// seed in hand.

// drawVersion names the recipe above inside the key.
const drawVersion = "fairslot lottery v1"

// The recipes of a seed's commitment (lottery_pools.commitment_recipe): a
// pool's row says which its commitment was made by, and everything that
// checks it (the draw, VerifyDraw, an outsider's script) computes that one,
// never one and then the other.
const (
	// CommitV1 is SHA-256(seed): pools committed before migration 0061,
	// and the column's default, which an instance of an earlier release
	// writes during a rolling upgrade. Not bound to its pool: the same
	// seed gives the same commitment in any pool.
	CommitV1 = 1
	// CommitV2 is SHA-256("fairslot commit v2\n" + session id + "\n" +
	// channel + "\n" + the seed's 32 bytes): bound to its pool, so a
	// commitment copied from another pool does not match that pool's seed
	// when anyone recomputes it (review20 H1).
	CommitV2 = 2
)

// commitV2 names recipe CommitV2 inside its hash.
const commitV2 = "fairslot commit v2"

// Commitment is the published commitment of a lottery pool's seed, by the
// recipe the pool's row names; an unknown recipe is an error.
func Commitment(recipe int, sessionID string, ch Channel, seed []byte) ([]byte, error) {
	var c [32]byte
	switch recipe {
	case CommitV1:
		c = sha256.Sum256(seed)
	case CommitV2:
		c = sha256.Sum256(append([]byte(commitV2+"\n"+sessionID+"\n"+string(ch)+"\n"), seed...))
	default:
		return nil, fmt.Errorf("unknown commitment recipe %d", recipe)
	}
	return c[:], nil
}

// DrawOrder returns the drawn order of the eligible entries ids of a pool and
// the digest of the sorted ids (step 2), which the draw records.
func DrawOrder(seed []byte, sessionID string, ch Channel, ids []string) (order []string, digest []byte) {
	order = slices.Clone(ids)
	slices.Sort(order)
	h := sha256.New()
	for _, id := range order {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	digest = h.Sum(nil)
	key := sha256.Sum256([]byte(drawVersion + "\n" + sessionID + "\n" + string(ch) + "\n" +
		hex.EncodeToString(seed) + "\n" + hex.EncodeToString(digest)))
	w := &wordStream{key: key}
	for i := len(order) - 1; i > 0; i-- {
		j := w.uniform(uint64(i) + 1)
		order[i], order[j] = order[j], order[i]
	}
	return order, digest
}

// wordStream is step 4: SHA-256 in counter mode, read as 64-bit words.
type wordStream struct {
	key   [32]byte
	block uint64
	buf   [32]byte
	have  int // words of buf not read yet
}

func (w *wordStream) next() uint64 {
	if w.have == 0 {
		var in [40]byte
		copy(in[:], w.key[:])
		binary.BigEndian.PutUint64(in[32:], w.block)
		w.buf = sha256.Sum256(in[:])
		w.block++
		w.have = 4
	}
	v := binary.BigEndian.Uint64(w.buf[8*(4-w.have):])
	w.have--
	return v
}

// uniform returns a number uniform in [0, m) by rejection: words at or above
// the largest multiple of m below 2^64 are drawn again.
func (w *wordStream) uniform(m uint64) uint64 {
	limit := -(-m % m) // 2^64 − (2^64 mod m), computed modulo 2^64
	for {
		v := w.next()
		if limit == 0 || v < limit {
			return v % m
		}
	}
}
