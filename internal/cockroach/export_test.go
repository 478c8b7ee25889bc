package cockroach

// OnRefused makes s call f after a batch of bookings left rows out, before
// it reads why: the moment a conflicting booking may be cancelled.
func OnRefused(s *Store, f func()) { s.refused = f }

// Warmed is the SQL of the statements a connection opened under Warm runs.
func Warmed() []string {
	var sqls []string
	for _, name := range warmed {
		sqls = append(sqls, q(name))
	}
	return sqls
}
