-- Ward's audit trail (HIPAA 45 CFR 164.312(b) audit controls and (c) integrity), written by
-- apps/audit. Append-only and hash-chained:
--   * `event` holds the event exactly as hashed (canonical JSON, RFC 8785 style); `doc` (what
--     queries and indexes read) is GENERATED from it, so it can never disagree with the chain;
--   * hash = SHA-256(prev_hash || '\n' || seq || '\n' || event), seq gapless from 1 (or from the
--     last retention purge), written under an advisory lock in the batch's transaction;
--   * audit_checkpoints holds Ed25519-signed statements (last seq, last hash, row count, time)
--     made with a key kept outside the database, so rewrites and truncation are detectable.
-- A trigger refuses UPDATE, DELETE and TRUNCATE, except the retention purge deleting a prefix of
-- the chain inside a transaction that set `ward.audit_purge_through` (SET LOCAL).

-- The text -> timestamptz cast is STABLE (it depends on DateStyle and TimeZone); for the strict
-- UTC form events use (2026-12-04T20:15:03.120Z) the result does not, so it may back an index.
CREATE FUNCTION ward_audit_ts(value text) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT value::timestamptz $$;

CREATE TABLE audit_events (
  seq       bigint NOT NULL PRIMARY KEY CHECK (seq > 0),
  prev_hash text   NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash      text   NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  event     text   NOT NULL,
  -- The event parsed once, for queries and indexes; it can only ever say what `event` says.
  doc       jsonb  NOT NULL GENERATED ALWAYS AS (event::jsonb) STORED
);

-- Idempotent writes: a redelivered event (same ULID) is stored once.
CREATE UNIQUE INDEX audit_events_event_id ON audit_events ((doc ->> 'id'));
CREATE INDEX audit_events_time ON audit_events (ward_audit_ts(doc ->> 'time'));
CREATE INDEX audit_events_actor ON audit_events ((doc #>> '{actor,sub}'), seq);
CREATE INDEX audit_events_action ON audit_events ((doc ->> 'action'), seq);
CREATE INDEX audit_events_job ON audit_events ((doc #>> '{resource,jobId}'))
  WHERE doc #>> '{resource,jobId}' IS NOT NULL;
CREATE INDEX audit_events_model ON audit_events ((doc #>> '{resource,model}'), seq)
  WHERE doc #>> '{resource,model}' IS NOT NULL;

CREATE TABLE audit_checkpoints (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The canonical JSON that was signed, and its Ed25519 signature (base64).
  payload    text        NOT NULL,
  signature  text        NOT NULL,
  kind       text        NOT NULL GENERATED ALWAYS AS ((payload::jsonb) ->> 'kind') STORED,
  first_seq  bigint      NOT NULL GENERATED ALWAYS AS (((payload::jsonb) ->> 'firstSeq')::bigint) STORED,
  last_seq   bigint      NOT NULL GENERATED ALWAYS AS (((payload::jsonb) ->> 'lastSeq')::bigint) STORED,
  last_hash  text        NOT NULL GENERATED ALWAYS AS ((payload::jsonb) ->> 'lastHash') STORED,
  row_count  bigint      NOT NULL GENERATED ALWAYS AS (((payload::jsonb) ->> 'rowCount')::bigint) STORED,
  signed_at  timestamptz NOT NULL GENERATED ALWAYS AS (ward_audit_ts((payload::jsonb) ->> 'signedAt')) STORED,
  key_id     text        NOT NULL GENERATED ALWAYS AS ((payload::jsonb) ->> 'keyId') STORED
);

CREATE INDEX audit_checkpoints_last_seq ON audit_checkpoints (last_seq);
CREATE INDEX audit_checkpoints_purge ON audit_checkpoints (last_seq) WHERE kind = 'purge';

CREATE FUNCTION ward_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  through text := current_setting('ward.audit_purge_through', true);
BEGIN
  IF TG_OP = 'DELETE' AND through IS NOT NULL AND through <> '' THEN
    IF TG_TABLE_NAME = 'audit_events' AND OLD.seq <= through::bigint THEN
      RETURN OLD;
    END IF;
    IF TG_TABLE_NAME = 'audit_checkpoints' AND OLD.last_seq < through::bigint THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING HINT = 'only the retention purge (ward audit purge) removes audit rows';
END
$$;

CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
