package cockroach

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// scanUUID takes what pgtype.UUID.Scan takes, gives the same bytes, and
// allocates nothing.
func TestScanUUIDIsScan(t *testing.T) {
	const id = "0b9b6f5e-58d7-4c3a-9a55-2f1d8f0c6e21"
	inputs := []string{"", id, strings.ToUpper(id), strings.ReplaceAll(id, "-", ""), strings.ReplaceAll(id, "-", "x"),
		id[:35], id + "0", id[:35] + "g", "g" + id[1:], id[:8] + "-" + id[9:], "{" + id[1:35] + "}",
		strings.Repeat("f", 32), strings.Repeat("F", 36), strings.Repeat("-", 36), strings.Repeat("0", 31)}
	rnd := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEF-gG {}x\x00é"
	for range 20_000 { // mutations of the id, and random strings of both lengths
		b := []byte(id)
		for range 1 + rnd.IntN(3) {
			b[rnd.IntN(len(b))] = alphabet[rnd.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b), string(b[:32]))
	}
	for _, s := range inputs {
		var want pgtype.UUID
		wantErr := want.Scan(s)
		got, ok := scanUUID(s)
		if ok != (wantErr == nil) || (ok && got != want) {
			t.Fatalf("scanUUID(%q) = %v, %v; pgtype's Scan: %v, %v", s, got, ok, want, wantErr)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = scanUUID(id) }); n != 0 {
		t.Errorf("scanUUID allocates %v times, want 0", n)
	}
}
