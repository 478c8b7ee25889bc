package cockroach

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// The entry and event batches send their UUID columns in binary: "" is
// NULL, an id its 16 bytes, and a malformed id refuses the statement rather
// than go in as NULL.
func TestUUIDArray(t *testing.T) {
	var a uuidArray
	a.add("")
	a.add("0b9b6f5e-58d7-4c3a-9a55-2f1d8f0c6e21")
	if err := a.err(); err != nil {
		t.Fatalf("err = %v, want none", err)
	}
	want := pgtype.UUID{Bytes: [16]byte{0x0b, 0x9b, 0x6f, 0x5e, 0x58, 0xd7, 0x4c, 0x3a, 0x9a, 0x55, 0x2f, 0x1d, 0x8f, 0x0c, 0x6e, 0x21}, Valid: true}
	if len(a.v) != 2 || a.v[0].Valid || a.v[1] != want {
		t.Errorf("values = %+v, want NULL then %+v", a.v, want)
	}
	a.add("not-a-uuid")
	if a.err() == nil {
		t.Error("a malformed id was taken")
	}
}
