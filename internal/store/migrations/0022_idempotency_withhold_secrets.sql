-- Replayable answers that carried a new token's secret were kept in plain
-- text for 24 h. The server no longer keeps such bodies (Cache-Control:
-- no-store; a replay gets 409 "secret shown once"); this removes the ones an
-- older server kept. Token creation is the only answer that carries one.
UPDATE idempotency_keys SET body = NULL, content_type = 'genesis/withheld; secret shown once'
WHERE status <> 0 AND path LIKE '%/tokens';
