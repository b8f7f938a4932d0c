-- Bulk export output in parts, and a heartbeat for running bulk jobs (src/fhir/bulk.ts).
--
-- An output file holds up to 100,000 resources (100-300 MB of NDJSON): too big to build in
-- memory and write as one value, and appending to a text value rewrites it each time. So the
-- export writes a file as numbered parts of about a thousand lines, and a download streams the
-- parts in order. fhir_bulk_file keeps one row per file (type, count); its content is unused.
ALTER TABLE fhir_bulk_file ALTER COLUMN content DROP NOT NULL;

CREATE TABLE fhir_bulk_file_part (
  job_id   text    NOT NULL,
  file_no  integer NOT NULL,
  part_no  integer NOT NULL,
  content  text    NOT NULL,
  PRIMARY KEY (job_id, file_no, part_no),
  FOREIGN KEY (job_id, file_no) REFERENCES fhir_bulk_file (job_id, file_no) ON DELETE CASCADE
);

-- A running export touches heartbeat_at after every batch. A job whose heartbeat has stopped
-- lost its process (a restart, a crash); the next status poll starts it again.
ALTER TABLE fhir_bulk_job ADD COLUMN heartbeat_at timestamptz;

-- What the job was asked for (level, group, types, since) as JSON, so a restarted job runs the
-- same export whether it was kicked off by GET or by POST with a Parameters body.
ALTER TABLE fhir_bulk_job ADD COLUMN parameters text;
