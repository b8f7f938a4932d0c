-- The audit trail of every access to patient data (src/access/audit). See src/access/README.md.
--
-- access_audit_event is an append-only hash chain: each row holds one FHIR AuditEvent as
-- canonical JSON (RFC 8785), the previous row's hash and its own hash
--   hash = SHA-256(previous hash bytes || canonical JSON as UTF-8)
-- so changing, removing or reordering any row breaks every link after it (`npm run audit -- verify`).
-- The other columns are copies of what the JSON says, for the privacy officer's and citizens'
-- queries; verification checks them against the JSON too.
--
-- access_audit_head is the chain's one-row head: appends lock it (SELECT ... FOR UPDATE), so
-- appends from any number of connections and processes are serialised, and it holds the last
-- sequence and hash, so removing rows from the end is detected as well.

CREATE TABLE access_audit_head (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  sequence   bigint  NOT NULL CHECK (sequence >= 0),
  -- hex SHA-256 of the last event; the chain starts from 64 zeros
  hash       text    NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO access_audit_head (singleton, sequence, hash) VALUES (true, 0, repeat('0', 64));

CREATE TABLE access_audit_event (
  sequence       bigint      PRIMARY KEY CHECK (sequence > 0),
  recorded       timestamptz NOT NULL,
  -- what happened, in the access layer's words (AccessRecord.action): read, search, create, break-glass, ...
  action         text        NOT NULL,
  outcome        text        NOT NULL CHECK (outcome IN ('success', 'refused', 'failure')),
  -- who: AccessContext.kind and subject (a user or client id, never an NHS number), role and organisation
  agent_kind     text        NOT NULL CHECK (agent_kind IN ('user', 'client', 'system', 'anonymous')),
  agent          text        NOT NULL,
  agent_role     text,
  agent_org      text,
  -- HL7 v3 PurposeOfUse: TREAT, ETREAT (break-glass), PATRQT, HOPERAT, HSYSADMIN, PUBHLTH
  purpose        text        NOT NULL,
  -- FHIR Patient ids whose data was touched: the citizen's "who has looked at my record"
  patients       text[]      NOT NULL DEFAULT '{}',
  event          text        NOT NULL,
  previous_hash  text        NOT NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
  hash           text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX access_audit_event_patients ON access_audit_event USING gin (patients);
CREATE INDEX access_audit_event_recorded ON access_audit_event (recorded);
CREATE INDEX access_audit_event_agent ON access_audit_event (agent, recorded);
CREATE INDEX access_audit_event_action ON access_audit_event (action, sequence);

-- Append-only in the database too: no UPDATE, DELETE or TRUNCATE, whatever the code does.
-- (An owner can still disable the trigger; the hash chain is what detects that.)
CREATE FUNCTION access_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER access_audit_event_append_only BEFORE UPDATE OR DELETE ON access_audit_event
  FOR EACH ROW EXECUTE FUNCTION access_audit_refuse_change();
CREATE TRIGGER access_audit_event_no_truncate BEFORE TRUNCATE ON access_audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION access_audit_refuse_change();

-- The head only moves forward, and is never removed.
CREATE FUNCTION access_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.sequence < OLD.sequence THEN
    RAISE EXCEPTION 'the audit chain head only moves forward: % is refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER access_audit_head_forward BEFORE UPDATE OR DELETE ON access_audit_head
  FOR EACH ROW EXECUTE FUNCTION access_audit_head_forward();
CREATE TRIGGER access_audit_head_no_truncate BEFORE TRUNCATE ON access_audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION access_audit_refuse_change();

-- A privacy officer's review of a break-glass access is kept on the break-glass grant itself
-- (access_break_glass in 0009_access_policy.sql) and recorded in this trail as an event of its own.
