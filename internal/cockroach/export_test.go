package cockroach

// OnRefused makes s call f after a batch of bookings left rows out, before
// it reads why: the moment a conflicting booking may be cancelled.
func OnRefused(s *Store, f func()) { s.refused = f }
