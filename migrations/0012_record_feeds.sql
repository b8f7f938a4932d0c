-- Partner feeds (issue 6): the dead-letter queue. A feed message that was refused (bad JSON, an
-- invalid resource, a failed transaction, an import's bad lines) is kept here with the
-- OperationOutcome it was answered with, for an operator to inspect, fix and replay, or discard.
-- The body is patient data: only operators reach it, and each look is in the audit trail.
-- (Provenance of accepted messages is FHIR Provenance in the record store itself.)
CREATE TABLE record_feed_dead_letter (
  id              bigserial PRIMARY KEY,
  received_at     timestamptz NOT NULL DEFAULT now(),
  -- The backend client that sent it, as its token said, and the scopes the token carried: a
  -- replay acts as that client with those scopes, never with more.
  client_id       text NOT NULL,
  client_name     text NOT NULL,
  organisation    text,
  scopes          text NOT NULL,
  method          text NOT NULL,
  endpoint        text NOT NULL,
  content_type    text NOT NULL,
  body            text NOT NULL,
  status          integer NOT NULL,
  outcome         jsonb NOT NULL,
  state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replayed', 'discarded')),
  -- The last operator's correction of the body, and the last action (replay or discard).
  edited_at       timestamptz,
  edited_by       text,
  acted_at        timestamptz,
  acted_by        text,
  reason          text,
  CHECK (state <> 'discarded' OR (reason IS NOT NULL AND acted_by IS NOT NULL)),
  CHECK (state <> 'replayed' OR acted_by IS NOT NULL)
);
CREATE INDEX record_feed_dead_letter_open ON record_feed_dead_letter (state, received_at DESC);
