package cockroach

import "time"

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

// StatementsApart makes db's Migrate run each statement of a migration on
// its own, as it does on CockroachDB, whatever the server.
func StatementsApart(db *DB) { db.statementsApart = true }

// Statements are the statements of an embedded migration, as Migrate runs
// them.
func Statements(name string) ([]string, error) {
	body, err := migrations.ReadFile("migrations/" + name)
	return statements(string(body)), err
}

// BuildMigrations are the names of this build's migrations for db's flavor.
func BuildMigrations(db *DB) ([]string, error) { return db.buildMigrations() }

// ForgetWritable makes db's next Ping ask again whether the database takes
// writes, however recently it asked.
func ForgetWritable(db *DB) {
	db.writable.Lock()
	db.writable.at = time.Time{}
	db.writable.Unlock()
}
