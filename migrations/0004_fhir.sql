-- The FHIR R4 record store (src/fhir). See src/fhir/README.md and docs/scale-out.md.
--
-- Two families of identical tables:
--   fhir_patient_*  resources in the Patient compartment, and Patients themselves. Every row
--                   carries patient_key, a stable hash of the owning Patient's id, so that on
--                   Citus these tables are distributed by patient_key and co-located.
--   fhir_shared_*   everything else (Practitioner, Organization, Location, ValueSet, ...):
--                   reference tables on Citus.
-- A family has the current version of each resource, every version in history, and one index
-- table per search-parameter type, filled at write time in the same transaction. Searches are
-- answered from the index tables, never by reading the JSON.
--
-- Index rows: param is the search parameter's code ('code', 'patient', '_tag'); composite
-- parameters store each component as param || '$' || component number, and item numbers the
-- element of the resource the components came from, so components of one element join.

CREATE SEQUENCE fhir_resource_key_seq;

DO $$
DECLARE
  family text;
BEGIN
  FOREACH family IN ARRAY ARRAY['fhir_patient', 'fhir_shared'] LOOP
    EXECUTE format($f$
      CREATE TABLE %1$s_resource (
        resource_key   bigint      NOT NULL UNIQUE,
        patient_key    bigint      NOT NULL,
        resource_type  text        NOT NULL,
        id             text        NOT NULL,
        version_id     integer     NOT NULL CHECK (version_id > 0),
        last_updated   timestamptz NOT NULL,
        deleted        boolean     NOT NULL DEFAULT false,
        -- the current version as JSON text, meta included; null once deleted
        content        text        CHECK (deleted OR content IS NOT NULL),
        PRIMARY KEY (resource_type, id)
      );
      CREATE INDEX %1$s_resource_updated ON %1$s_resource (resource_type, last_updated);
      CREATE INDEX %1$s_resource_patient ON %1$s_resource (patient_key);

      CREATE TABLE %1$s_history (
        resource_key   bigint      NOT NULL,
        patient_key    bigint      NOT NULL,
        resource_type  text        NOT NULL,
        id             text        NOT NULL,
        version_id     integer     NOT NULL,
        last_updated   timestamptz NOT NULL,
        method         text        NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
        deleted        boolean     NOT NULL DEFAULT false,
        content        text        CHECK (deleted OR content IS NOT NULL),
        PRIMARY KEY (resource_type, id, version_id)
      );
      CREATE INDEX %1$s_history_updated ON %1$s_history (last_updated);
      CREATE INDEX %1$s_history_type_updated ON %1$s_history (resource_type, last_updated);

      CREATE TABLE %1$s_token (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        system        text,
        code          text,
        -- lower-cased display or text, for :text
        display       text,
        -- an Identifier's type as system|code, for :of-type
        of_type       text
      );
      CREATE INDEX %1$s_token_code ON %1$s_token (resource_type, param, code, system);
      CREATE INDEX %1$s_token_resource ON %1$s_token (resource_key, param);

      CREATE TABLE %1$s_string (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        value         text     NOT NULL,
        -- lower case without accents, for the default starts-with and :contains
        normalized    text     NOT NULL
      );
      CREATE INDEX %1$s_string_value ON %1$s_string (resource_type, param, normalized text_pattern_ops);
      CREATE INDEX %1$s_string_resource ON %1$s_string (resource_key, param);

      CREATE TABLE %1$s_date (
        resource_key  bigint      NOT NULL,
        patient_key   bigint      NOT NULL,
        resource_type text        NOT NULL,
        param         text        NOT NULL,
        item          smallint    NOT NULL DEFAULT 0,
        -- the instant range the value covers at its precision; open ends are -infinity/infinity
        low           timestamptz NOT NULL,
        high          timestamptz NOT NULL
      );
      CREATE INDEX %1$s_date_range ON %1$s_date (resource_type, param, low, high);
      CREATE INDEX %1$s_date_resource ON %1$s_date (resource_key, param);

      CREATE TABLE %1$s_number (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        value         numeric  NOT NULL
      );
      CREATE INDEX %1$s_number_value ON %1$s_number (resource_type, param, value);
      CREATE INDEX %1$s_number_resource ON %1$s_number (resource_key, param);

      CREATE TABLE %1$s_quantity (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        value         numeric  NOT NULL,
        system        text,
        code          text,
        unit          text
      );
      CREATE INDEX %1$s_quantity_value ON %1$s_quantity (resource_type, param, value);
      CREATE INDEX %1$s_quantity_resource ON %1$s_quantity (resource_key, param);

      CREATE TABLE %1$s_reference (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        -- the Type/id a reference ends in (also for an absolute URL, which may be another server's)
        target_type   text,
        target_id     text,
        target_version text,
        -- the reference as written when it is an absolute URL or a canonical; search matches
        -- Type/id only where this is null or under this server's base
        target_url    text
      );
      CREATE INDEX %1$s_reference_target ON %1$s_reference (resource_type, param, target_id, target_type);
      CREATE INDEX %1$s_reference_url ON %1$s_reference (resource_type, param, target_url);
      CREATE INDEX %1$s_reference_resource ON %1$s_reference (resource_key, param);
      CREATE INDEX %1$s_reference_any ON %1$s_reference (target_type, target_id);

      CREATE TABLE %1$s_uri (
        resource_key  bigint   NOT NULL,
        patient_key   bigint   NOT NULL,
        resource_type text     NOT NULL,
        param         text     NOT NULL,
        item          smallint NOT NULL DEFAULT 0,
        value         text     NOT NULL
      );
      CREATE INDEX %1$s_uri_value ON %1$s_uri (resource_type, param, value);
      CREATE INDEX %1$s_uri_resource ON %1$s_uri (resource_key, param);
    $f$, family);
  END LOOP;
END
$$;

-- Asynchronous bulk work ($export, $import): its state, so a status poll can answer after a restart.
CREATE TABLE fhir_bulk_job (
  id            text        PRIMARY KEY,
  kind          text        NOT NULL CHECK (kind IN ('export', 'import')),
  request_url   text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('accepted', 'in-progress', 'completed', 'failed', 'cancelled')),
  progress      text,
  created_at    timestamptz NOT NULL,
  completed_at  timestamptz,
  -- the completion manifest (output files, errors), as the Bulk Data specification shapes it
  manifest      text,
  error         text
);

-- The NDJSON files an export produced, kept in the database so either engine serves them.
CREATE TABLE fhir_bulk_file (
  job_id        text    NOT NULL REFERENCES fhir_bulk_job (id) ON DELETE CASCADE,
  file_no       integer NOT NULL,
  resource_type text    NOT NULL,
  kind          text    NOT NULL CHECK (kind IN ('output', 'error')),
  count         integer NOT NULL,
  content       text    NOT NULL,
  PRIMARY KEY (job_id, file_no)
);
