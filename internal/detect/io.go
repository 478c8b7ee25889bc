package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"fairslot/internal/booking"
)

// ReadReports reads scalper reports as `fairslot events --reports` writes
// them: one booking.Report a line (case_id, ts, reporter, account_id,
// booking_id, phone as its keyed hash), blank lines skipped.
func ReadReports(r io.Reader) ([]booking.Report, error) {
	var out []booking.Report
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rep booking.Report
		if err := json.Unmarshal(line, &rep); err != nil {
			return nil, fmt.Errorf("reports line %d: %w", n, err)
		}
		if rep.CaseID == "" || rep.Reporter == "" {
			return nil, fmt.Errorf("reports line %d: a report needs its case_id and reporter", n)
		}
		out = append(out, rep)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return out, nil
}

// WriteReports writes reports in the format ReadReports reads.
func WriteReports(w io.Writer, reports []booking.Report) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range reports {
		if err := enc.Encode(&reports[i]); err != nil {
			return fmt.Errorf("write report %d: %w", i, err)
		}
	}
	return bw.Flush()
}

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
