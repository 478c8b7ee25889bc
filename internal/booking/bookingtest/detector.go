package bookingtest

import (
	"slices"
	"sync"

	"fairslot/internal/booking"
)

// Detector stands in for internal/detect: every run finds the flags the
// test set (Returns), and the events and reports of each run are kept, so a
// test can check what the Service fed it. Use its Detect as
// booking.Config.Detector.
type Detector struct {
	mu      sync.Mutex
	flags   []booking.Flag
	runs    [][]booking.Event
	reports []booking.Report
}

var _ booking.Detector = (*Detector)(nil).Detect

// Detect is the booking.Detector.
func (d *Detector) Detect(events []booking.Event, reports []booking.Report) []booking.Flag {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runs = append(d.runs, events)
	d.reports = reports
	return slices.Clone(d.flags)
}

// Returns sets the flags the next runs find.
func (d *Detector) Returns(flags ...booking.Flag) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flags = flags
}

// Runs is how many runs there were.
func (d *Detector) Runs() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.runs)
}

// Last is the events of the latest run (nil before any).
func (d *Detector) Last() []booking.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.runs) == 0 {
		return nil
	}
	return d.runs[len(d.runs)-1]
}

// LastReports is the reports of the latest run.
func (d *Detector) LastReports() []booking.Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reports
}
