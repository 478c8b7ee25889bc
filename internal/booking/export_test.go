package booking

// QueuedBookings is how many bookings wait for a batch of the group commit.
func (s *Service) QueuedBookings() int { return s.bookings.queued() }
