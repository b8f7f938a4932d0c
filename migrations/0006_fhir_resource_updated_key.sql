-- The (resource_type, last_updated) index of each resource table gains resource_key as a third
-- column, so "this type, in last-updated order, after (t, k)" is read straight off the index in
-- the exact order a keyset page needs (bulk $export, src/fhir/bulk.ts). With two columns, rows
-- updated in the same instant (a whole imported batch) had to be sorted on every page, and a
-- planner without statistics (the embedded engine never analyses on its own) sorted the whole
-- type for each page of a thousand. Same size and write cost, one column wider.
DROP INDEX fhir_patient_resource_updated;
CREATE INDEX fhir_patient_resource_updated ON fhir_patient_resource (resource_type, last_updated, resource_key);
DROP INDEX fhir_shared_resource_updated;
CREATE INDEX fhir_shared_resource_updated ON fhir_shared_resource (resource_type, last_updated, resource_key);
