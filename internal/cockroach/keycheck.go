package cockroach

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// KeyFingerprint returns the master key's fingerprint recorded in the
// database (migration 0038), or nil when none is recorded yet.
func (db *DB) KeyFingerprint(ctx context.Context) ([]byte, error) {
	var fp []byte
	err := db.pool.QueryRow(ctx, queries["key_fingerprint"]).Scan(&fp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the master key's fingerprint: %w", translate(err))
	}
	return fp, nil
}

// RecordKeyFingerprint records fp unless a fingerprint is recorded already,
// and returns the one recorded: fp, or the one that was there first.
func (db *DB) RecordKeyFingerprint(ctx context.Context, fp []byte) ([]byte, error) {
	if _, err := db.pool.Exec(ctx, queries["record_key_fingerprint"], fp); err != nil {
		return nil, fmt.Errorf("record the master key's fingerprint: %w", translate(err))
	}
	return db.KeyFingerprint(ctx)
}

// SealedSample returns one value sealed under the master key (an account's
// phone, sealed for "phone"), or nil when the database holds none.
func (db *DB) SealedSample(ctx context.Context) ([]byte, error) {
	var sealed []byte
	err := db.pool.QueryRow(ctx, queries["sealed_phone_sample"]).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read a sealed value: %w", translate(err))
	}
	return sealed, nil
}
