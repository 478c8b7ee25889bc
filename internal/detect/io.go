package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"fairslot/internal/booking"
)

// ReadReports reads scalper reports as `fairslot events --reports` writes
// them: one booking.Report a line (case_id, ts, reporter, account_id,
// booking_id, phone as its keyed hash), blank lines skipped.
func ReadReports(r io.Reader) ([]booking.Report, error) {
	return readLines(r, "reports", 1<<20, func(rep *booking.Report) error {
		if rep.CaseID == "" || rep.Reporter == "" {
			return errors.New("a report needs its case_id and reporter")
		}
		return nil
	})
}

// WriteReports writes reports in the format ReadReports reads.
func WriteReports(w io.Writer, reports []booking.Report) error {
	return writeLines(w, "report", reports)
}

// ReadEvents reads the booking-event format of ../shared/API.md: one JSON
// object a line, blank lines skipped, unknown fields ignored, any order.
func ReadEvents(r io.Reader) ([]booking.Event, error) {
	return readLines(r, "events", 16<<20, func(*booking.Event) error { return nil })
}

// WriteEvents writes events in the same format, one a line.
func WriteEvents(w io.Writer, events []booking.Event) error {
	return writeLines(w, "event", events)
}

// zonedEvent is an event whose times are written in one zone with
// booking.StampLayout: the fields ts and release_at shadow the event's own.
type zonedEvent struct {
	TS string `json:"ts"`
	*booking.Event
	ReleaseAt string `json:"release_at,omitempty"`
}

// WriteEventsIn writes events as WriteEvents does, with ts and release_at in
// loc and six fractional digits always (`fairslot events`: China Standard
// Time, as API.md's example, whatever the host's zone).
func WriteEventsIn(w io.Writer, events []booking.Event, loc *time.Location) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range events {
		z := zonedEvent{TS: events[i].TS.In(loc).Format(booking.StampLayout), Event: &events[i]}
		if !events[i].ReleaseAt.IsZero() {
			z.ReleaseAt = events[i].ReleaseAt.In(loc).Format(booking.StampLayout)
		}
		if err := enc.Encode(&z); err != nil {
			return fmt.Errorf("write event %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// readLines reads one JSON object of type T a line, blank lines skipped,
// each checked; an error names the line.
func readLines[T any](r io.Reader, what string, maxLine int, check func(*T) error) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", what, n, err)
		}
		if err := check(&v); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", what, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

func writeLines[T any](w io.Writer, what string, vs []T) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range vs {
		if err := enc.Encode(&vs[i]); err != nil {
			return fmt.Errorf("write %s %d: %w", what, i, err)
		}
	}
	return bw.Flush()
}

// WriteFlags writes flags as the JSON array GET /v1/admin/flags returns,
// indented as a json.Encoder with SetIndent("", "  ") writes it — a flag
// at a time, so that tens of thousands of flags never sit in memory twice
// as text.
func WriteFlags(w io.Writer, flags []Flag) error {
	if len(flags) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	bw := bufio.NewWriterSize(w, 256*1024)
	bw.WriteString("[\n  ")
	for i := range flags {
		if i > 0 {
			bw.WriteString(",\n  ")
		}
		b, err := json.MarshalIndent(&flags[i], "  ", "  ")
		if err != nil {
			return fmt.Errorf("write flag %d: %w", i, err)
		}
		bw.Write(b)
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
