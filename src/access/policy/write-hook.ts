/**
 * The FHIR store's write hook (`FhirStoreOptions.onWrite`, passed as `registerFhirApi`'s
 * `onWrite`): in the same transaction as every write, it keeps the policy's tables in step with
 * the records: the relationships a record establishes (relationships.ts), the objections and
 * opt-outs a Consent holds (consent.ts), and the sensitive classes and holder of each record
 * (labels.ts). A delete removes what the record established; a failure here rolls the write back.
 *
 * `rebuildAccessTables(db)` recomputes everything from the stored records, for data written
 * before the hook was in place (or by a store built without it).
 */
import type { Consent, Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../core/db/database.js';
import { patientKey } from '../../fhir/indexer.js';
import type { FhirWriteHook, WrittenVersion } from '../../fhir/store.js';
import { consentEffects, consentPatientId } from './consent.js';
import { holderOf, sensitiveClasses } from './labels.js';
import { ensurePersons } from './persons.js';
import { type FoundRelationship, type PartyRef, RELATIONSHIP_TYPES, relationshipsFrom } from './relationships.js';

const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const RELATIONSHIP_SOURCES: ReadonlySet<string> = new Set(RELATIONSHIP_TYPES);

export const accessWriteHook: FhirWriteHook = async (q, written) => applyWrites(q, written);

async function applyWrites(q: Queryable, written: readonly WrittenVersion[]): Promise<void> {
  const keys: number[] = [];

  // Sensitive labels: the current version's classes replace the previous ones (a delete keeps them).
  const labelled = written.filter((w) => w.family === 'fhir_patient' && !w.deleted);
  if (labelled.length > 0) {
    await q.query('DELETE FROM access_resource_label WHERE resource_key = ANY($1::int8[])', [labelled.map((w) => w.resourceKey)]);
    const rows = labelled.flatMap((w) => sensitiveClasses(w.resource).map((cls) => ({ key: w.resourceKey, patientKey: w.patientKey, cls, holder: holderOf(w.resource) ?? null })));
    if (rows.length > 0) {
      await q.query(
        `INSERT INTO access_resource_label (resource_key, patient_key, class, holder)
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
        [rows.map((r) => r.key), rows.map((r) => r.patientKey), rows.map((r) => r.cls), rows.map((r) => r.holder)],
      );
    }
  }

  // Relationships: whatever a record established is replaced by what its new version establishes.
  const sources = written.filter((w) => RELATIONSHIP_SOURCES.has(w.resource.resourceType));
  if (sources.length > 0) {
    await q.query(
      `DELETE FROM access_relationship r USING unnest($1::text[], $2::text[]) AS s(type, id) WHERE r.source_type = s.type AND r.source_id = s.id`,
      [sources.map((w) => w.resource.resourceType), sources.map((w) => w.resource.id)],
    );
    const found = sources.filter((w) => !w.deleted).flatMap((w) => relationshipsFrom(w.resource).map((r) => ({ r, source: w.resource })));
    if (found.length > 0) {
      const parties = await resolveParties(q, found.map((f) => f.r.party));
      const rows = found.flatMap(({ r, source }) => (parties.get(partyKey(r.party)) ?? []).map((party) => ({ r, source, party, key: patientKey(r.patientId) })));
      await insertRelationships(q, rows);
      keys.push(...rows.map((row) => row.key));
    }
  }

  // Consents.
  const consents = written.filter((w) => w.resource.resourceType === 'Consent');
  if (consents.length > 0) {
    await q.query('DELETE FROM access_consent WHERE source_id = ANY($1::text[])', [consents.map((w) => w.resource.id)]);
    const rows = consents
      .filter((w) => !w.deleted)
      .flatMap((w) => {
        const patientId = consentPatientId(w.resource as Consent);
        if (!patientId) return [];
        return consentEffects(w.resource as Consent).map((effect) => ({ effect, patientId, key: patientKey(patientId), source: w.resource.id }));
      });
    if (rows.length > 0) {
      await ensurePersons(q, rows.map((r) => r.key));
      await q.query(
        `INSERT INTO access_consent (person_key, patient_key, patient_id, kind, organisations, valid_from, valid_until, source_id)
         SELECT l.person_key, u.patient_key, u.patient_id, u.kind, CASE WHEN u.organisations IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(u.organisations::json)) END,
                u.valid_from, u.valid_until, u.source_id
         FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[])
           AS u(patient_key, patient_id, kind, organisations, valid_from, valid_until, source_id)
         JOIN access_person_link l ON l.patient_key = u.patient_key`,
        [
          rows.map((r) => r.key),
          rows.map((r) => r.patientId),
          rows.map((r) => r.effect.kind),
          rows.map((r) => (r.effect.organisations ? JSON.stringify(r.effect.organisations) : null)),
          rows.map((r) => r.effect.validFrom ?? null),
          rows.map((r) => r.effect.validUntil ?? null),
          rows.map((r) => r.source),
        ],
      );
    }
  }

  // Every Patient is a person from the moment it is written.
  keys.push(...written.filter((w) => w.resource.resourceType === 'Patient' && !w.deleted).map((w) => w.patientKey));
  if (keys.length > 0) await ensurePersons(q, keys);
}

interface RelationshipRow {
  r: FoundRelationship;
  source: Resource;
  party: string;
  key: number;
}

async function insertRelationships(q: Queryable, rows: readonly RelationshipRow[]): Promise<void> {
  if (rows.length === 0) return;
  await ensurePersons(q, rows.map((row) => row.key));
  await q.query(
    `INSERT INTO access_relationship (person_key, patient_key, patient_id, party, basis, since, until, source_type, source_id)
     SELECT l.person_key, u.patient_key, u.patient_id, u.party, u.basis, u.since, u.until, u.source_type, u.source_id
     FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[])
       AS u(patient_key, patient_id, party, basis, since, until, source_type, source_id)
     JOIN access_person_link l ON l.patient_key = u.patient_key`,
    [
      rows.map((row) => row.key),
      rows.map((row) => row.r.patientId),
      rows.map((row) => row.party),
      rows.map((row) => row.r.basis),
      rows.map((row) => validInstant(row.r.since)),
      rows.map((row) => validInstant(row.r.until)),
      rows.map((row) => row.source.resourceType),
      rows.map((row) => row.source.id),
    ],
  );
}

/** A FHIR date or dateTime as PostgreSQL takes it (a partial date is its first instant); null if none. */
function validInstant(value: string | undefined): string | null {
  if (!value) return null;
  if (/^\d{4}$/.test(value)) return `${value}-01-01`;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01`;
  return Number.isNaN(Date.parse(value)) ? null : value;
}

function partyKey(party: PartyRef): string {
  return `${party.kind}/${party.id}`;
}

/**
 * The parties stored for each reference: an Organization's ODS code (its ODS identifier, or its
 * id, which in OpenICS is the ODS code); a Practitioner as `Practitioner/<id>`; a PractitionerRole
 * as its organisation and its practitioner; a HealthcareService as its organisation.
 */
async function resolveParties(q: Queryable, refs: readonly PartyRef[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const byKind = (kind: PartyRef['kind']): string[] => [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
  for (const id of byKind('practitioner')) out.set(`practitioner/${id}`, [`Practitioner/${id}`]);

  // PractitionerRole and HealthcareService: their organisation (and a role's practitioner).
  const roles = byKind('practitioner-role');
  const services = byKind('healthcare-service');
  const viaOrganisation = new Map<string, { orgs: string[]; others: string[] }>();
  if (roles.length > 0 || services.length > 0) {
    const { rows } = await q.query<{ resource_type: string; id: string; param: string; target_type: string; target_id: string }>(
      `SELECT r.resource_type, r.id, x.param, x.target_type, x.target_id FROM fhir_shared_resource r
         JOIN fhir_shared_reference x ON x.patient_key = r.patient_key AND x.resource_key = r.resource_key
       WHERE NOT r.deleted AND x.target_id IS NOT NULL
         AND ((r.resource_type = 'PractitionerRole' AND r.id = ANY($1::text[]) AND x.param IN ('organization', 'practitioner'))
           OR (r.resource_type = 'HealthcareService' AND r.id = ANY($2::text[]) AND x.param = 'organization'))`,
      [roles, services],
    );
    for (const row of rows) {
      const key = `${row.resource_type === 'PractitionerRole' ? 'practitioner-role' : 'healthcare-service'}/${row.id}`;
      const entry = viaOrganisation.get(key) ?? { orgs: [], others: [] };
      if (row.target_type === 'Organization') entry.orgs.push(row.target_id);
      else if (row.target_type === 'Practitioner') entry.others.push(`Practitioner/${row.target_id}`);
      viaOrganisation.set(key, entry);
    }
  }

  const organisations = [...new Set([...byKind('organisation'), ...[...viaOrganisation.values()].flatMap((v) => v.orgs)])];
  const codes = new Map<string, string>();
  if (organisations.length > 0) {
    const { rows } = await q.query<{ id: string; code: string }>(
      `SELECT r.id, min(t.code) AS code FROM fhir_shared_resource r
         JOIN fhir_shared_token t ON t.patient_key = r.patient_key AND t.resource_key = r.resource_key AND t.param = 'identifier' AND t.system = $2
       WHERE r.resource_type = 'Organization' AND r.id = ANY($1::text[]) AND NOT r.deleted AND t.code IS NOT NULL GROUP BY r.id`,
      [organisations, ODS_SYSTEM],
    );
    for (const row of rows) codes.set(row.id, row.code);
  }
  const code = (id: string): string => codes.get(id) ?? id;
  for (const id of byKind('organisation')) out.set(`organisation/${id}`, [code(id)]);
  for (const [key, entry] of viaOrganisation) out.set(key, [...new Set([...entry.orgs.map(code), ...entry.others])]);
  return out;
}

const REBUILD_BATCH = 1000;

/**
 * Recomputes the relationship, consent and label tables from the records in the store (every
 * current version), e.g. after data was loaded by a store built without the write hook. Person
 * links are kept. Runs in batches, each its own transaction; returns how many records it read.
 */
export async function rebuildAccessTables(db: Database): Promise<number> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM access_relationship');
    await tx.query('DELETE FROM access_consent');
    await tx.query('DELETE FROM access_resource_label');
  });
  let read = 0;
  // Records that establish relationships or consents, and every record with a security label.
  const scans: Array<{ family: 'fhir_patient' | 'fhir_shared'; where: string; params: unknown[] }> = [
    { family: 'fhir_patient', where: `r.resource_type = ANY($2::text[])`, params: [[...RELATIONSHIP_TYPES, 'Consent']] },
    {
      family: 'fhir_patient',
      where: `NOT (r.resource_type = ANY($2::text[])) AND EXISTS (SELECT 1 FROM fhir_patient_token t WHERE t.patient_key = r.patient_key AND t.resource_key = r.resource_key AND t.param = '_security')`,
      params: [[...RELATIONSHIP_TYPES, 'Consent']],
    },
  ];
  for (const scan of scans) {
    let cursor = 0;
    for (;;) {
      const { rows } = await db.query<{ resource_key: number | string; patient_key: number | string; content: string }>(
        `SELECT r.resource_key, r.patient_key, r.content FROM ${scan.family}_resource r
         WHERE r.resource_key > $1 AND NOT r.deleted AND ${scan.where} ORDER BY r.resource_key LIMIT ${REBUILD_BATCH}`,
        [cursor, ...scan.params],
      );
      if (rows.length === 0) break;
      const versions: WrittenVersion[] = rows.map((row) => ({
        resource: JSON.parse(row.content) as WrittenVersion['resource'],
        family: scan.family,
        resourceKey: Number(row.resource_key),
        patientKey: Number(row.patient_key),
        deleted: false,
      }));
      await db.transaction((tx) => applyWrites(tx, versions));
      read += rows.length;
      cursor = Number((rows[rows.length - 1] as { resource_key: number | string }).resource_key);
      if (rows.length < REBUILD_BATCH) break;
    }
  }
  return read;
}
