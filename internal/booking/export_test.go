package booking

import "context"

// QueuedBookings is how many bookings wait for a batch of the group commit.
func (s *Service) QueuedBookings() int { return s.bookings.queued() }

// Commit is the booking protocol's commit step alone (commit): the group
// commit and its answer, for the commit benchmark.
func (s *Service) Commit(ctx context.Context, b Booking, ev Event) error { return s.commit(ctx, b, ev) }
