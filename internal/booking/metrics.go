package booking

import "time"

// Metrics receives the booking outcomes where they happen, whichever
// adapter asked (the API, the consoles) or none did (a waitlist hand-over, a
// lottery draw), so every booking and every refused attempt is counted once.
type Metrics interface {
	// Booked: a booking committed in SQL (replays are not new bookings).
	Booked(ch Channel)
	// Refused: a booking attempt refused by a rule or a conflict, by its
	// error code (sold_out, quota_day, …).
	Refused(code string)
}

type noMetrics struct{}

func (noMetrics) Booked(Channel) {}
func (noMetrics) Refused(string) {}

// CommitMetrics receives the group commits' batches (groupcommit.go): what
// a booking or a lottery entry waits for between its admission and its
// answer, which no SQL or Redis timing shows.
type CommitMetrics interface {
	// Batch: one batch of kind ("booking" or "entry") written; waits holds,
	// per row, how long it was queued before its batch was taken to be
	// written (len(waits) is the batch's size), and took is how long the
	// write ran (the SQL statement, and for bookings the confirm in Redis).
	Batch(kind string, waits []time.Duration, took time.Duration)
	// Answered: one row of kind had its answer back in its caller, took
	// after its batch's write ended: the wait for a CPU to resume the
	// caller, and for the batch's writer, the work it does before it
	// returns (the follow-up with afterKeepsTurn, the turn's hand-on).
	Answered(kind string, took time.Duration)
}

type noCommitMetrics struct{}

func (noCommitMetrics) Batch(string, []time.Duration, time.Duration) {}
func (noCommitMetrics) Answered(string, time.Duration)               {}
