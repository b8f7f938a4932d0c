-- The master patient index (src/record/mpi). See src/record/mpi/README.md.
--
-- Every Patient resource a partner organisation sends is a source patient: its own copy of a
-- resident, with its own identifiers and demographics. The index links each source patient to
-- one resident (mpi_resident); the FHIR store's write hook (src/record/write-hook.ts) keeps these
-- tables in the same transaction as the Patient written. The access policy's persons
-- (access_person_link) follow the residents: the source patients of one resident share a person.
--
-- Nothing here is ever deleted: a withdrawn source patient keeps its row (withdrawn_at), a
-- resident merged into another keeps its row (merged_into), and every change is a row in
-- mpi_link_event, so any link can be explained and undone.

CREATE TABLE mpi_resident (
  id           text        PRIMARY KEY,
  created_at   timestamptz NOT NULL,
  -- set when this resident was merged into another (its source patients moved there)
  merged_into  text        REFERENCES mpi_resident (id),
  merged_at    timestamptz
);

CREATE TABLE mpi_source_patient (
  patient_id    text        PRIMARY KEY,
  patient_key   bigint      NOT NULL UNIQUE,
  resident_id   text        NOT NULL REFERENCES mpi_resident (id),
  -- ODS code (or ONS GSS code of a council) of the holder, and its system, from meta.source
  holder        text,
  system        text,
  nhs_number    text,
  nhs_verified  boolean     NOT NULL DEFAULT false,
  -- the linkage engine's Demographics (src/record/linkage), as last written
  demographics  jsonb       NOT NULL,
  -- a digest of demographics: an update re-links only when it changes
  fingerprint   text        NOT NULL,
  link_basis    text        NOT NULL CHECK (link_basis IN ('first', 'nhs-number', 'probabilistic', 'manual')),
  link_weight   double precision,
  linked_at     timestamptz NOT NULL,
  -- the source withdrew (deleted) the record; it stays linked, for the history
  withdrawn_at  timestamptz
);
CREATE INDEX mpi_source_patient_resident ON mpi_source_patient (resident_id);
CREATE INDEX mpi_source_patient_nhs ON mpi_source_patient (nhs_number) WHERE nhs_number IS NOT NULL;

-- Blocking keys (src/record/linkage blockingKeys): candidates for a new source patient are the
-- source patients sharing at least one key.
CREATE TABLE mpi_blocking_key (
  block        text   NOT NULL,
  patient_key  bigint NOT NULL,
  PRIMARY KEY (block, patient_key)
);
CREATE INDEX mpi_blocking_key_patient ON mpi_blocking_key (patient_key);

-- How many current source patients carry each family and given name (upper case), for the
-- name-frequency adjustment of agreement weights. name '' holds the total for its kind.
CREATE TABLE mpi_name_frequency (
  kind   text   NOT NULL CHECK (kind IN ('family', 'given')),
  name   text   NOT NULL,
  count  bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (kind, name)
);

-- Possible matches queued for a person to review: a source patient and the resident it may be.
CREATE TABLE mpi_review (
  id                    bigserial   PRIMARY KEY,
  patient_id            text        NOT NULL REFERENCES mpi_source_patient (patient_id),
  candidate_patient_id  text        NOT NULL REFERENCES mpi_source_patient (patient_id),
  weight                double precision NOT NULL,
  -- the engine's PairScore (fields compared, weights), for the side-by-side view
  score                 jsonb       NOT NULL,
  status                text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected', 'closed')),
  queued_at             timestamptz NOT NULL,
  decided_by            text,
  decided_at            timestamptz,
  reason                text
);
CREATE UNIQUE INDEX mpi_review_open_pair ON mpi_review (patient_id, candidate_patient_id) WHERE status = 'open';
CREATE INDEX mpi_review_status ON mpi_review (status, queued_at);

-- Pairs a reviewer decided are not the same person (patient_a < patient_b): never queued again.
CREATE TABLE mpi_non_match (
  patient_a   text        NOT NULL,
  patient_b   text        NOT NULL CHECK (patient_a < patient_b),
  decided_by  text        NOT NULL,
  decided_at  timestamptz NOT NULL,
  reason      text        NOT NULL,
  PRIMARY KEY (patient_a, patient_b)
);

-- Every change to the index: who (an agent: 'system:linker' or a user subject), when, why, on
-- what basis and score. resident_id is where the source patient is after the event, from_resident
-- where it was before.
CREATE TABLE mpi_link_event (
  id             bigserial   PRIMARY KEY,
  at             timestamptz NOT NULL,
  action         text        NOT NULL CHECK (action IN ('registered', 'linked', 'queued', 'relinked', 'withdrawn', 'restored', 'merged', 'unmerged', 'accepted', 'rejected')),
  patient_id     text,
  resident_id    text        NOT NULL,
  from_resident  text,
  basis          text,
  weight         double precision,
  agent          text        NOT NULL,
  reason         text
);
CREATE INDEX mpi_link_event_resident ON mpi_link_event (resident_id, id);
CREATE INDEX mpi_link_event_from ON mpi_link_event (from_resident, id) WHERE from_resident IS NOT NULL;
CREATE INDEX mpi_link_event_patient ON mpi_link_event (patient_id, id);

-- The PDS stand-in (src/record/pds): the "national" demographics a trace is answered from.
CREATE TABLE pds_standin (
  nhs_number  text PRIMARY KEY,
  family      text NOT NULL,
  given       text NOT NULL,
  birth_date  date NOT NULL,
  sex         text NOT NULL,
  postcode    text,
  address     text,
  deceased    date
);
CREATE INDEX pds_standin_trace ON pds_standin (birth_date, upper(family));
