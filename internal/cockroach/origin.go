package cockroach

import (
	"context"
	"fmt"
)

// Origin names the database this pool reaches as a place, not as its rows:
// the server's own identity and the database's name. A copy restored from a
// dump holds the same rows, key check included, but on another server, or
// under another name on the same one, it has another origin; a replica
// promoted by a failover keeps its primary's (a physical replica shares
// the server's system identifier), and so does the database restored in
// place of one dropped. The Redis state of a prefix names the origin it
// was built from (admission.Gate.Own; review21b H3).
func (db *DB) Origin(ctx context.Context) (string, error) {
	q := `SELECT 'postgres ' || system_identifier::text || '/' || current_database() FROM pg_control_system()`
	if db.flavor == Cockroach {
		q = `SELECT 'cockroach ' || crdb_internal.cluster_id()::STRING || '/' || current_database()`
	}
	var origin string
	if err := db.pool.QueryRow(ctx, q).Scan(&origin); err != nil {
		return "", fmt.Errorf("read the database's origin: %w", translate(err))
	}
	return origin, nil
}
