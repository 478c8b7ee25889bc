package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"fairslot/internal/booking"
)

// ReadEvents reads the booking-event format of ../shared/API.md: one JSON
// object a line, blank lines skipped, unknown fields ignored, any order.
func ReadEvents(r io.Reader) ([]booking.Event, error) {
	var out []booking.Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e booking.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("events line %d: %w", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// WriteEvents writes events in the same format, one a line.
func WriteEvents(w io.Writer, events []booking.Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("write event %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// WriteFlags writes flags as the JSON array GET /v1/admin/flags returns.
func WriteFlags(w io.Writer, flags []Flag) error {
	if flags == nil {
		flags = []Flag{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(flags)
}
