-- Card readers and desk login moves that wait (cardreaders.go, review25
-- H1 and H4).

-- name: insert_card_reader
INSERT INTO card_readers (id, hospital_id, name, key_sealed, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6);

-- name: card_reader
SELECT id::TEXT, hospital_id::TEXT, name, key_sealed, created_by::TEXT, created_at, retired_at FROM card_readers WHERE id = $1;

-- name: card_readers
SELECT id::TEXT, hospital_id::TEXT, name, key_sealed, created_by::TEXT, created_at, retired_at
  FROM card_readers WHERE hospital_id = $1 ORDER BY created_at, id;

-- name: retire_card_reader
UPDATE card_readers SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL RETURNING id::TEXT;

-- name: insert_login_move
INSERT INTO pending_login_moves (account_id, phone_hash, phone_sealed, phone_masked, code_hash, requested_by, hospital_id,
                                 requested_at, due_at, card)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (account_id) DO NOTHING
RETURNING account_id::TEXT;

-- name: login_move
SELECT account_id::TEXT, phone_hash, phone_sealed, phone_masked, code_hash, requested_by::TEXT, hospital_id::TEXT,
       requested_at, due_at, card
  FROM pending_login_moves WHERE account_id = $1;

-- name: login_moves_due
SELECT account_id::TEXT, phone_hash, phone_sealed, phone_masked, code_hash, requested_by::TEXT, hospital_id::TEXT,
       requested_at, due_at, card
  FROM pending_login_moves WHERE due_at <= $1 ORDER BY due_at LIMIT 500;

-- name: delete_login_move
DELETE FROM pending_login_moves WHERE account_id = $1 RETURNING account_id::TEXT;

-- name: take_login_move
-- The move m, only as it was read (the same code): a move cancelled and
-- asked for again is not completed with the first one's code.
DELETE FROM pending_login_moves WHERE account_id = $1 AND code_hash = $2 RETURNING account_id::TEXT;
