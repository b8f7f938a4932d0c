-- A history row no longer repeats the current version's JSON: its content is null while it is the
-- current version (the resource table holds that text), and is filled in, in the same statement,
-- when a newer version replaces it. The text was stored twice for every resource, a quarter of the
-- store's size on disk (docs/benchmarks.md, "Loading into the FHIR store"). Deleted versions still
-- have null content; `deleted` tells the two apart.
ALTER TABLE fhir_patient_history DROP CONSTRAINT IF EXISTS fhir_patient_history_check;
ALTER TABLE fhir_shared_history DROP CONSTRAINT IF EXISTS fhir_shared_history_check;

UPDATE fhir_patient_history h SET content = NULL
FROM fhir_patient_resource r
WHERE h.resource_type = r.resource_type AND h.id = r.id AND h.version_id = r.version_id AND NOT r.deleted AND h.content IS NOT NULL;

UPDATE fhir_shared_history h SET content = NULL
FROM fhir_shared_resource r
WHERE h.resource_type = r.resource_type AND h.id = r.id AND h.version_id = r.version_id AND NOT r.deleted AND h.content IS NOT NULL;
