package booking

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
