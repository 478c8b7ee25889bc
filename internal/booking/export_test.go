package booking

import "context"

// QueuedBookings is how many bookings wait for a batch of the group commit.
func (s *Service) QueuedBookings() int { return s.bookings.queued() }

// BookingsSettled says whether no booking batch is being written or
// followed up: a batch's confirm runs after all its answers, in a
// goroutine of its own, so a booking's hold may still be pending for a
// moment after Book returns; once settled, every answered booking's is
// confirmed.
func (s *Service) BookingsSettled() bool { return s.bookings.settled() }

// settled says whether no batch waits, is written or is followed up.
func (g *groupCommit[T]) settled() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushing == 0 && len(g.queue) == 0
}

// Commit is the booking protocol's commit step alone (commit): the group
// commit and its answer, for the commit benchmark.
func (s *Service) Commit(ctx context.Context, b Booking, ev Event) error { return s.commit(ctx, b, ev) }

// SpendExplanations spends the refusal explanations' budget of the
// current second (explainRefusal): the next refusals are not explained.
func (s *Service) SpendExplanations() {
	for s.explained.spend(s.cfg.Now()) {
	}
}

// RefillExplanations gives the explanations' budget back.
func (s *Service) RefillExplanations() {
	s.explained.mu.Lock()
	s.explained.spent = 0
	s.explained.mu.Unlock()
}

// EndPlacesBeside is endPlacesBeside: the person's waiting places in the
// session end as once served through another place (served).
func (s *Service) EndPlacesBeside(ctx context.Context, sess *Session, served WaitlistEntry) {
	s.endPlacesBeside(ctx, sess, served, s.cfg.Now())
}
