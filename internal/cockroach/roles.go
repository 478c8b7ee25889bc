package cockroach

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ServiceRole is the role migration 0005_roles grants what the service
// needs: read and write the tables, but only add to and read the audit log.
const ServiceRole = "fairslot_service"

// GrantServiceLogin makes user a login that is a member of ServiceRole (and
// nothing more), creating it if missing, with password when one is given.
// The database owner runs it, after Migrate: `fairslot migrate` calls it for
// the user of the serving URL. A user that is a superuser is refused: the
// service must not be able to rewrite its own audit log.
func (db *DB) GrantServiceLogin(ctx context.Context, user, password string) error {
	if user == "" || strings.ContainsRune(user, 0) || strings.ContainsRune(password, 0) {
		return errors.New("grant service login: the login name and password must be non-empty text")
	}
	role := pgx.Identifier{user}.Sanitize()
	pw := "'" + strings.ReplaceAll(password, "'", "''") + "'"
	var stmts []string
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		stmts, err = db.loginStatements(ctx, user, role, pw, password != "")
		if err == nil {
			for _, s := range stmts {
				if _, err = db.pool.Exec(ctx, s); err != nil {
					break
				}
			}
		}
		if err == nil || !raced(err) {
			break
		}
		// Another migrate (another database on the same server) made or
		// granted the same role at the same moment: look again.
		time.Sleep(time.Duration(attempt*20) * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("grant the service login %s: %w", user, err)
	}
	return nil
}

// loginStatements are the statements that make user a service login, as
// things stand now.
func (db *DB) loginStatements(ctx context.Context, user, role, pw string, withPassword bool) ([]string, error) {
	var super bool
	err := db.pool.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = $1`, user).Scan(&super)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if super {
		return nil, fmt.Errorf("%s is a superuser: give the service a login of its own", user)
	}
	var out []string
	if db.flavor == Cockroach {
		s := "CREATE USER IF NOT EXISTS " + role
		if withPassword {
			s += " WITH PASSWORD " + pw
		}
		out = append(out, s)
		if exists && withPassword {
			out = append(out, "ALTER USER "+role+" WITH PASSWORD "+pw)
		}
		return append(out, "GRANT "+ServiceRole+" TO "+role), nil
	}
	password := ""
	if withPassword {
		password = " PASSWORD " + pw
	}
	if !exists {
		return []string{"CREATE ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" + password + " IN ROLE " + ServiceRole}, nil
	}
	// Not a superuser (checked above); saying NOSUPERUSER again would need
	// one, and the owner may be a CREATEROLE role only (deploy/cluster).
	return []string{"ALTER ROLE " + role + " LOGIN NOCREATEDB NOCREATEROLE" + password, "GRANT " + ServiceRole + " TO " + role}, nil
}

// raced reports an error of two migrations making the same role at once.
func raced(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "42710", "40001", "XX000": // unique, duplicate object, serialization, "tuple concurrently updated"
		return true
	}
	return false
}

// CheckServiceRole refuses a connection that could rewrite the audit log: a
// superuser, the tables' owner, or any role with UPDATE or DELETE on it.
// serve calls it at start, so the service never runs with more rights than
// ServiceRole gives.
func (db *DB) CheckServiceRole(ctx context.Context) error {
	var user string
	var super, update, del bool
	err := db.pool.QueryRow(ctx, `SELECT current_user, COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false),
		has_table_privilege('audit_log', 'UPDATE'), has_table_privilege('audit_log', 'DELETE')`).Scan(&user, &super, &update, &del)
	if err != nil {
		return fmt.Errorf("check the database role: %w", err)
	}
	if super || update || del {
		return fmt.Errorf("the database login %s can rewrite the audit log (superuser %v, UPDATE %v, DELETE %v): "+
			"serve must connect as a login of the %s role; run `fairslot migrate` with FAIRSLOT_MIGRATE_DATABASE_URL naming the owner "+
			"and FAIRSLOT_DATABASE_URL the service's login, which it creates and grants (docs/security.md)", user, super, update, del, ServiceRole)
	}
	return nil
}
