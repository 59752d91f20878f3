-- An expand step: older binaries ignore these columns, and keys they wrote
-- (attempt '', committed 0) are taken over as before.
-- Idempotency keys in flight (internal/httpapi/idempotency.go): attempt is
-- the request ID of the attempt that holds the key; committed counts that
-- attempt's transactions that committed, incremented inside each of them
-- (store.WithCommitHook). A key whose attempt stopped answering (its
-- replica died) is taken over by a retry only if committed = 0; otherwise
-- the retry is told the request was done and its response lost, and it is
-- not run again.
ALTER TABLE idempotency_keys ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN committed INTEGER NOT NULL DEFAULT 0;
