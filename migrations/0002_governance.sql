-- One change log for every module: what changed, when and by whom.
ALTER TABLE structure_change RENAME TO change_log;
ALTER TABLE change_log ADD COLUMN module text NOT NULL DEFAULT 'structure';

-- The governance module: meetings of any body, agendas with public and private parts,
-- versioned papers, attendance, registers of interests and of gifts and hospitality,
-- declarations, decisions and votes, actions, minutes, and public involvement.

CREATE TABLE meeting (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  body_id       text NOT NULL REFERENCES body(id) ON DELETE CASCADE,
  title         text NOT NULL,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz,
  venue         text,
  online_url    text,
  status        text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'held', 'cancelled')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at IS NULL OR ends_at > starts_at),
  CHECK (venue IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX meeting_body ON meeting (body_id, starts_at);
CREATE INDEX meeting_ics ON meeting (ics_code, starts_at);

CREATE TABLE agenda_item (
  id              text PRIMARY KEY,
  meeting_id      text NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
  position        integer NOT NULL CHECK (position > 0),
  part            text NOT NULL CHECK (part IN ('public', 'private')),
  title           text NOT NULL,
  purpose         text NOT NULL CHECK (purpose IN ('decision', 'discussion', 'assurance', 'information')),
  -- The public may be excluded only for a stated reason.
  private_reason  text,
  presenter       text,
  description     text,
  -- Organisations the item concerns: drives the conflict-of-interest flags.
  concerns        text[] NOT NULL DEFAULT '{}',
  -- The function in the functions and decisions map a decision on this item exercises.
  function_id     text REFERENCES ics_function(id),
  UNIQUE (meeting_id, position),
  CHECK (part = 'public' OR (private_reason IS NOT NULL AND length(trim(private_reason)) > 0))
);

CREATE TABLE paper (
  id              text PRIMARY KEY,
  agenda_item_id  text NOT NULL REFERENCES agenda_item(id) ON DELETE CASCADE,
  title           text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Versions are never overwritten or deleted: a new version is a new row, and replacing a
-- published paper requires a stated reason that the public site shows.
CREATE TABLE paper_version (
  paper_id        text NOT NULL REFERENCES paper(id) ON DELETE CASCADE,
  version         integer NOT NULL CHECK (version > 0),
  format          text NOT NULL CHECK (format IN ('pdf', 'markdown')),
  filename        text NOT NULL,
  size_bytes      integer NOT NULL CHECK (size_bytes > 0),
  sha256          text NOT NULL,
  content         bytea NOT NULL,
  uploaded_at     timestamptz NOT NULL DEFAULT now(),
  uploaded_by     text NOT NULL,
  change_reason   text,
  published_at    timestamptz,
  PRIMARY KEY (paper_id, version)
);

CREATE TABLE attendance (
  meeting_id  text NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
  person_id   text NOT NULL REFERENCES person(id),
  status      text NOT NULL CHECK (status IN ('present', 'apologies', 'absent', 'in_attendance')),
  PRIMARY KEY (meeting_id, person_id)
);

CREATE TABLE interest (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  person_id     text NOT NULL REFERENCES person(id),
  kind          text NOT NULL CHECK (kind IN ('financial', 'non_financial_professional', 'non_financial_personal', 'indirect')),
  description   text NOT NULL,
  org_codes     text[] NOT NULL DEFAULT '{}',
  start_date    date NOT NULL,
  end_date      date,
  declared_on   date NOT NULL,
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX interest_person ON interest (person_id);

CREATE TABLE gift (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  person_id     text NOT NULL REFERENCES person(id),
  kind          text NOT NULL CHECK (kind IN ('gift', 'hospitality')),
  description   text NOT NULL,
  offered_by    text NOT NULL,
  value_pounds  numeric(10, 2) NOT NULL CHECK (value_pounds >= 0),
  offered_on    date NOT NULL,
  accepted      boolean NOT NULL
);

CREATE TABLE declaration (
  id              text PRIMARY KEY,
  meeting_id      text NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
  agenda_item_id  text NOT NULL REFERENCES agenda_item(id) ON DELETE CASCADE,
  person_id       text NOT NULL REFERENCES person(id),
  interest_id     text REFERENCES interest(id),
  description     text NOT NULL,
  handling        text NOT NULL CHECK (handling IN ('noted', 'excluded_from_discussion', 'excluded_from_decision')),
  UNIQUE (agenda_item_id, person_id)
);

CREATE TABLE decision (
  id              text PRIMARY KEY,
  meeting_id      text NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
  agenda_item_id  text NOT NULL UNIQUE REFERENCES agenda_item(id) ON DELETE CASCADE,
  title           text NOT NULL,
  text            text NOT NULL,
  method          text NOT NULL CHECK (method IN ('vote', 'consensus')),
  outcome         text NOT NULL CHECK (outcome IN ('approved', 'rejected', 'deferred')),
  topic           text,
  decided_at      timestamptz NOT NULL,
  -- Recorded when the decision is taken: whether the body held delegated authority, and if not who does.
  authority_ok    boolean NOT NULL,
  authority_note  text
);

CREATE TABLE vote (
  decision_id  text NOT NULL REFERENCES decision(id) ON DELETE CASCADE,
  person_id    text NOT NULL REFERENCES person(id),
  vote         text NOT NULL CHECK (vote IN ('for', 'against', 'abstain')),
  PRIMARY KEY (decision_id, person_id)
);

CREATE TABLE action_item (
  id                text PRIMARY KEY,
  body_id           text NOT NULL REFERENCES body(id) ON DELETE CASCADE,
  meeting_id        text NOT NULL REFERENCES meeting(id) ON DELETE CASCADE,
  agenda_item_id    text REFERENCES agenda_item(id) ON DELETE SET NULL,
  description       text NOT NULL,
  owner_person_id   text NOT NULL REFERENCES person(id),
  due_date          date NOT NULL,
  closed_at_meeting text REFERENCES meeting(id),
  closed_note       text
);
CREATE INDEX action_item_body ON action_item (body_id);

CREATE TABLE minutes (
  meeting_id            text PRIMARY KEY REFERENCES meeting(id) ON DELETE CASCADE,
  status                text NOT NULL CHECK (status IN ('draft', 'approved', 'published')),
  content               text NOT NULL,
  drafted_at            timestamptz NOT NULL DEFAULT now(),
  approved_at_meeting   text REFERENCES meeting(id),
  approved_at           timestamptz,
  published_at          timestamptz,
  CHECK (status = 'draft' OR approved_at_meeting IS NOT NULL),
  CHECK (status <> 'published' OR published_at IS NOT NULL)
);

CREATE TABLE involvement (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('citizens_panel', 'survey', 'healthwatch', 'engagement_event', 'co_production', 'consultation')),
  title         text NOT NULL,
  summary       text NOT NULL,
  held_on       date NOT NULL,
  participants  integer CHECK (participants IS NULL OR participants >= 0),
  org_code      text REFERENCES organisation(code),
  url           text
);

CREATE TABLE involvement_decision (
  involvement_id  text NOT NULL REFERENCES involvement(id) ON DELETE CASCADE,
  decision_id     text NOT NULL REFERENCES decision(id) ON DELETE CASCADE,
  how_used        text NOT NULL,
  PRIMARY KEY (involvement_id, decision_id)
);
