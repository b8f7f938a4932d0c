/**
 * The compartment-leak suite: two residents, A and B, whose records refer to each other (B's
 * Observation was performed by A's RelatedPerson, A's Encounter gives B's Observation as its
 * reason, both share a Practitioner; a Group lists both), tried over real HTTP as resident A
 * (a citizen), as a clinician with no relationship to either, and as a clinician of A's
 * practice — with every search feature, $everything, bulk export, Bundles, conditional writes,
 * history and $validate. B's records must never appear, totals and paging must count only what
 * the caller may see, and every refusal must be in the audit trail.
 *
 * Callers are given with the test-only header of test/support/policy-app.ts (the identity
 * plugin and token endpoint are not wired into app.ts yet).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PolicyTestApp, accessHeader, startPolicyTestApp } from '../../../test/support/policy-app.js';
import type { AccessContext } from '../context.js';

const ENGINE = process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite';
const src = (ods: string): string => `urn:openics:source:${ods}:test`;
const LOINC = 'http://loinc.org';

const DATA: Resource[] = [
  { resourceType: 'Organization', id: 'M85001', name: 'Practice of A', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'M85001' }] },
  { resourceType: 'Organization', id: 'M85002', name: 'Practice of B' },
  { resourceType: 'Organization', id: 'RLQ', name: 'Wye Valley NHS Trust' },
  { resourceType: 'Organization', id: 'RWP', name: 'Worcestershire Acute Hospitals NHS Trust' },
  { resourceType: 'Practitioner', id: 'pr-shared', name: [{ family: 'Shared' }] },
  {
    resourceType: 'Patient',
    id: 'pat-a',
    meta: { source: src('M85001') },
    name: [{ family: 'Adams', given: ['Alice'] }],
    generalPractitioner: [{ reference: 'Organization/M85001' }],
    managingOrganization: { reference: 'Organization/M85001' },
  },
  { resourceType: 'Patient', id: 'pat-b', meta: { source: src('M85002') }, name: [{ family: 'Zebedee', given: ['Bob'] }], generalPractitioner: [{ reference: 'Organization/M85002' }] },
  { resourceType: 'RelatedPerson', id: 'rp-a', meta: { source: src('M85001') }, patient: { reference: 'Patient/pat-a' }, name: [{ family: 'Adams', given: ['Carer'] }] },
  {
    resourceType: 'Encounter',
    id: 'enc-a',
    meta: { source: src('M85001') },
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/pat-a' },
    serviceProvider: { reference: 'Organization/M85001' },
    participant: [{ individual: { reference: 'Practitioner/pr-shared' } }],
    reasonReference: [{ reference: 'Observation/obs-b' }],
    period: { start: '2025-01-01T10:00:00Z' },
  },
  obs('obs-a', 'pat-a', 'M85001', { performer: [{ reference: 'Practitioner/pr-shared' }], effectiveDateTime: '2025-02-01' }),
  obs('obs-a-hiv', 'pat-a', 'RWP', { effectiveDateTime: '2025-02-02', meta: { source: src('RWP'), security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] } }),
  obs('obs-a-sdv', 'pat-a', 'M85001', { effectiveDateTime: '2025-02-03', meta: { source: src('M85001'), security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'SDV' }] } }),
  obs('obs-b', 'pat-b', 'M85002', { performer: [{ reference: 'RelatedPerson/rp-a' }, { reference: 'Practitioner/pr-shared' }], effectiveDateTime: '2025-02-04', valueString: 'B-SECRET' }),
  { resourceType: 'Encounter', id: 'enc-b', meta: { source: src('M85002') }, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/pat-b' }, serviceProvider: { reference: 'Organization/M85002' } },
  { resourceType: 'Condition', id: 'cond-b', meta: { source: src('M85002') }, subject: { reference: 'Patient/pat-b' }, code: { text: 'B-SECRET condition' } },
  { resourceType: 'Group', id: 'grp', meta: { source: src('RWP') }, type: 'person', actual: true, member: [{ entity: { reference: 'Patient/pat-a' } }, { entity: { reference: 'Patient/pat-b' } }] },
];

function obs(id: string, patient: string, holder: string, extra: Record<string, unknown>): Resource {
  return {
    resourceType: 'Observation',
    id,
    meta: { source: src(holder) },
    status: 'final',
    identifier: [{ system: 'urn:test:obs', value: id }],
    code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patient}` },
    ...extra,
  };
}

const B_IDS = new Set(['Patient/pat-b', 'Observation/obs-b', 'Encounter/enc-b', 'Condition/cond-b', 'Group/grp']);
/** Text only B's records hold. */
const B_TEXT = ['pat-b', 'Zebedee', 'B-SECRET'];

type Persona = 'citizen' | 'unrelated' | 'related';

const CONTEXTS: Record<Persona, AccessContext> = {
  citizen: { kind: 'user', subject: 'citizen-a', display: 'Alice Adams', role: 'citizen', scopes: [{ context: 'patient', type: '*', actions: 'rs' }], ownPatients: ['pat-a'], proxyPatients: [], purpose: 'PATRQT' },
  unrelated: { kind: 'user', subject: 'dr-unrelated', display: 'Dr Unrelated', role: 'doctor', organisation: 'RLQ', scopes: [{ context: 'user', type: '*', actions: 'cruds' }], purpose: 'TREAT' },
  related: { kind: 'user', subject: 'dr-related', display: 'Dr Related', role: 'doctor', organisation: 'M85001', scopes: [{ context: 'user', type: '*', actions: 'cruds' }], purpose: 'TREAT' },
};

/** What each caller may see, by `Type/id`. */
const VISIBLE: Record<Persona, Set<string>> = {
  // The resident sees their own sexual health record, not the safeguarding one; directory resources their records refer to.
  citizen: new Set(['Patient/pat-a', 'RelatedPerson/rp-a', 'Encounter/enc-a', 'Observation/obs-a', 'Observation/obs-a-hiv', 'Practitioner/pr-shared', 'Organization/M85001']),
  unrelated: new Set(['Organization/M85001', 'Organization/M85002', 'Organization/RLQ', 'Organization/RWP', 'Practitioner/pr-shared']),
  // The practice sees its own safeguarding record, not the hospital's sexual health one; every directory resource.
  related: new Set(['Patient/pat-a', 'RelatedPerson/rp-a', 'Encounter/enc-a', 'Observation/obs-a', 'Observation/obs-a-sdv', 'Organization/M85001', 'Organization/M85002', 'Organization/RLQ', 'Organization/RWP', 'Practitioner/pr-shared']),
};
const visibleOf = (persona: Persona, type: string): string[] => [...VISIBLE[persona]].filter((r) => r.startsWith(`${type}/`)).sort();

let t: PolicyTestApp;

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

async function call(persona: Persona | AccessContext, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const context = typeof persona === 'string' ? CONTEXTS[persona] : persona;
  const url = path.startsWith('http') ? path : `${t.url}${path}`;
  const response = await fetch(url, {
    method,
    headers: { ...accessHeader(context), ...(body !== undefined ? { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/fhir+json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { status: response.status, text, json };
}

/** Every `Type/id` of a resource anywhere in a body (Bundles, nested Bundles, contained). */
function resourcesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) resourcesIn(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.resourceType === 'string' && typeof o.id === 'string' && o.resourceType !== 'Bundle' && o.resourceType !== 'OperationOutcome') out.push(`${o.resourceType}/${o.id}`);
    for (const v of Object.values(o)) resourcesIn(v, out);
  }
  return out;
}

/**
 * The answer without what only echoes the request: paging links (they repeat the query) and
 * OperationOutcomes (they name what was asked for; that they say nothing more is checked by
 * comparing them with the answer for something that does not exist).
 */
function withoutEchoes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEchoes);
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (o.resourceType === 'OperationOutcome') return {};
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'link' && k !== 'outcome').map(([k, v]) => [k, withoutEchoes(v)]));
}

/** Nothing of B's in an answer the caller may read. */
function expectNoB(answer: Answer | string): void {
  const text = typeof answer === 'string' ? answer : JSON.stringify(withoutEchoes(answer.json));
  for (const marker of B_TEXT) expect(text, `"${marker}" leaked`).not.toContain(marker);
  const found = typeof answer === 'string' ? text.split('\n').filter(Boolean).flatMap((line) => resourcesIn(JSON.parse(line))) : resourcesIn(answer.json);
  for (const r of found) expect(B_IDS.has(r), `${r} leaked`).toBe(false);
}

function matches(bundle: Record<string, unknown>): string[] {
  return ((bundle.entry ?? []) as Array<{ resource?: Resource; search?: { mode?: string } }>)
    .filter((e) => e.search?.mode === 'match')
    .map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`)
    .sort();
}

function included(bundle: Record<string, unknown>): string[] {
  return ((bundle.entry ?? []) as Array<{ resource?: Resource; search?: { mode?: string } }>)
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`)
    .sort();
}

async function refusedCount(subject: string): Promise<number> {
  const { rows } = await t.database.db.query<{ n: number }>(`SELECT count(*) AS n FROM access_audit_event WHERE agent = $1 AND outcome = 'refused'`, [subject]);
  return Number(rows[0]?.n ?? 0);
}

/** Runs a request that must be refused, and checks the refusal was added to the audit trail. */
async function refusedAndAudited(persona: Persona, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
  const before = await refusedCount(CONTEXTS[persona].subject);
  const answer = await call(persona, method, path, body, headers);
  expect(await refusedCount(CONTEXTS[persona].subject), `${method} ${path} was refused (${answer.status}) but not audited`).toBeGreaterThan(before);
  return answer;
}

/** The status a caller gets for a record of B's: 404 for the resident (as if absent), 403 with break-glass for clinicians. */
function expectHiddenFromB(persona: Persona, answer: Answer): void {
  if (persona === 'citizen') {
    expect(answer.status).toBe(404);
    expectNoB(answer);
  } else {
    expect(answer.status).toBe(403);
    expect(answer.text).toMatch(/break glass/);
    expect(answer.text).not.toContain('B-SECRET');
    expect(answer.text).not.toContain('Zebedee');
  }
}

beforeAll(async () => {
  t = await startPolicyTestApp();
  for (const resource of DATA) await t.store.update(resource.resourceType, resource.id as string, resource);
}, 120_000);
afterAll(async () => {
  await t.close();
});

const PERSONAS: Persona[] = ['citizen', 'unrelated', 'related'];

describe.each(PERSONAS)(`compartment leaks, as the %s (${ENGINE})`, (persona) => {
  it('read, vread and history of B’s records are refused (404 for the resident, 403 with break-glass for clinicians) and audited', async () => {
    for (const path of ['/fhir/Patient/pat-b', '/fhir/Observation/obs-b', '/fhir/Encounter/enc-b', '/fhir/Condition/cond-b', '/fhir/Observation/obs-b/_history/1', '/fhir/Observation/obs-b/_history', '/fhir/Patient/pat-b/_history']) {
      expectHiddenFromB(persona, await refusedAndAudited(persona, 'GET', path));
    }
    if (persona === 'citizen') {
      // Exactly as for records that do not exist.
      const hidden = await call(persona, 'GET', '/fhir/Observation/obs-b');
      const absent = await call(persona, 'GET', '/fhir/Observation/no-such');
      expect(hidden.text.replaceAll('obs-b', 'X')).toBe(absent.text.replaceAll('no-such', 'X'));
      const hiddenVersion = await call(persona, 'GET', '/fhir/Observation/obs-b/_history/1');
      const absentVersion = await call(persona, 'GET', '/fhir/Observation/no-such/_history/1');
      expect(hiddenVersion.text.replaceAll('obs-b', 'X')).toBe(absentVersion.text.replaceAll('no-such', 'X'));
    }
  });

  it('reads of what the caller may see succeed; of A’s records it may not, are refused', async () => {
    for (const r of VISIBLE[persona]) {
      const answer = await call(persona, 'GET', `/fhir/${r}`);
      expect(answer.status, r).toBe(200);
      expectNoB(answer);
    }
    for (const r of ['Observation/obs-a', 'Observation/obs-a-hiv', 'Observation/obs-a-sdv', 'Patient/pat-a', 'Group/grp']) {
      if (VISIBLE[persona].has(r)) continue;
      const answer = await refusedAndAudited(persona, 'GET', `/fhir/${r}`);
      expect([403, 404]).toContain(answer.status);
      expect(answer.text).not.toContain('"resourceType":"Observation"');
    }
  });

  it('plain search, _id, chains and reverse chains find only what the caller may see', async () => {
    const all = await call(persona, 'GET', '/fhir/Observation?_total=accurate');
    expect(matches(all.json)).toEqual(visibleOf(persona, 'Observation'));
    expect(all.json.total).toBe(visibleOf(persona, 'Observation').length);
    expectNoB(all);
    for (const query of [
      'Observation?_id=obs-b',
      'Observation?subject:Patient.name=Zebedee',
      'Observation?subject.name=Zebedee',
      'Observation?performer=RelatedPerson/rp-a',
      'Observation?performer:RelatedPerson.name=Adams',
      'Condition',
      'Encounter?subject=Patient/pat-b',
      'Patient?_has:Observation:subject:_id=obs-b',
      'Patient?name=Zebedee',
      'Patient?_id=pat-b',
    ]) {
      const answer = await call(persona, 'GET', `/fhir/${query}`);
      expect(answer.status, query).toBe(200);
      expect(answer.json.total, query).toBe(0);
      expectNoB(answer);
    }
    const has = await call(persona, 'GET', '/fhir/Patient?_has:Observation:subject:code=8867-4');
    expect(matches(has.json)).toEqual(visibleOf(persona, 'Patient'));
    const form = await call(persona, 'POST', '/fhir/Observation/_search', '_id=obs-b,obs-a');
    expect(matches(form.json)).toEqual(visibleOf(persona, 'Observation').filter((r) => r === 'Observation/obs-a'));
  });

  it('_include, _revinclude, :iterate and _include=* bring in nothing the caller may not see', async () => {
    const queries = [
      'Encounter?_include=Encounter:reason-reference',
      'Encounter?_include=Encounter:reason-reference&_include:iterate=Observation:subject&_include:iterate=Observation:performer',
      'Encounter?_include=*&_include:iterate=*',
      'Observation?_include=*',
      'RelatedPerson?_revinclude=Observation:performer',
      'Practitioner?_revinclude=Observation:performer&_revinclude=Encounter:participant',
      'Practitioner?_revinclude:iterate=*&_revinclude=*',
      'Patient?_revinclude=*&_revinclude:iterate=*',
      'Organization?_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject',
    ];
    for (const query of queries) {
      const answer = await call(persona, 'GET', `/fhir/${query}`);
      expect(answer.status, query).toBe(200);
      expectNoB(answer);
      for (const r of [...matches(answer.json), ...included(answer.json)]) expect(VISIBLE[persona].has(r), `${query} gave ${r}`).toBe(true);
    }
  });

  it('totals and paging (_count=1, next to the end, last) count only what the caller may see; _sort, _summary=count and _elements too', async () => {
    const expected = visibleOf(persona, 'Observation');
    for (const query of ['Observation?_count=1&_total=accurate', 'Observation?_count=1&_sort=-date', 'Observation?_count=1&_sort=code,-_lastUpdated&_elements=code']) {
      const seen: string[] = [];
      let next: string | undefined = `${t.url}/fhir/${query}`;
      let pages = 0;
      while (next) {
        const page = await call(persona, 'GET', next);
        expect(page.status).toBe(200);
        expectNoB(page);
        if (page.json.total !== undefined) expect(page.json.total, query).toBe(expected.length);
        const links = (page.json.link ?? []) as Array<{ relation: string; url: string }>;
        if (pages === 0 && expected.length > 0) {
          const last = links.find((l) => l.relation === 'last');
          expect(last?.url, query).toContain(`_offset=${expected.length - 1}`);
        }
        seen.push(...matches(page.json));
        next = links.find((l) => l.relation === 'next')?.url;
        pages += 1;
        expect(pages).toBeLessThan(10);
      }
      expect(seen.sort(), query).toEqual(expected);
    }
    const count = await call(persona, 'GET', '/fhir/Observation?_summary=count');
    expect(count.json.total).toBe(expected.length);
    expect(count.json.entry).toBeUndefined();
    const estimate = await call(persona, 'GET', '/fhir/Observation?_total=estimate&_count=0');
    expect(estimate.json.total).toBe(expected.length);
  });

  it('system-level search and _type find only what the caller may see', async () => {
    const types = ['Patient', 'Observation', 'Encounter', 'Condition', 'RelatedPerson', 'Group'];
    const answer = await call(persona, 'GET', `/fhir?_type=${types.join(',')}&_count=100`);
    expect(answer.status).toBe(200);
    const expected = types.flatMap((type) => visibleOf(persona, type)).sort();
    expect(matches(answer.json)).toEqual(expected);
    expect(answer.json.total).toBe(expected.length);
    expectNoB(answer);
    const byId = await call(persona, 'GET', '/fhir?_id=obs-b,pat-b,enc-b,cond-b,grp');
    expect(byId.json.total).toBe(0);
    const everything = await call(persona, 'GET', '/fhir?_count=200');
    expect(matches(everything.json)).toEqual([...VISIBLE[persona]].sort());
  });

  it('Patient/B/$everything is refused; Patient/A/$everything does not pull B in through references', async () => {
    expectHiddenFromB(persona, await refusedAndAudited(persona, 'GET', '/fhir/Patient/pat-b/$everything'));
    if (persona === 'unrelated') {
      expect((await refusedAndAudited(persona, 'GET', '/fhir/Patient/pat-a/$everything')).status).toBe(403);
      return;
    }
    const answer = await call(persona, 'GET', '/fhir/Patient/pat-a/$everything');
    expect(answer.status).toBe(200);
    expectNoB(answer);
    const got = resourcesIn((answer.json.entry as Array<{ resource: Resource }>).map((e) => e.resource)).filter((r) => !r.startsWith('Organization/') || r === 'Organization/M85001');
    const expected = [...VISIBLE[persona]].filter((r) => !r.startsWith('Organization/') || r === 'Organization/M85001');
    expect([...new Set(got)].sort()).toEqual(expected.sort());
    expect(answer.json.total).toBe((answer.json.entry as unknown[]).length);
  });

  it('$export (system, Patient, Group) and its files hold nothing the caller may not see, and another caller cannot fetch them', async () => {
    const exportAll = async (path: string): Promise<string[] | Answer> => {
      const kick = await call(persona, 'GET', path, undefined, { prefer: 'respond-async' });
      if (kick.status !== 202) return kick;
      const status = await pollUntilDone(persona, kick);
      const lines: string[] = [];
      for (const file of status.output) {
        const download = await call(persona, 'GET', file.url);
        expect(download.status).toBe(200);
        expectNoB(download.text);
        lines.push(download.text);
        const other: Persona = persona === 'related' ? 'unrelated' : 'related';
        expect((await refusedAndAudited(other, 'GET', file.url)).status).toBe(404);
      }
      return lines.flatMap((text) =>
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const r = JSON.parse(line) as Resource;
            return `${r.resourceType}/${r.id ?? ''}`;
          }),
      );
    };
    const system = await exportAll('/fhir/$export?_type=Patient,Observation,Encounter,Condition,RelatedPerson,Group,Practitioner,Organization');
    expect(Array.isArray(system)).toBe(true);
    expect((system as string[]).sort()).toEqual([...VISIBLE[persona]].sort());
    const patient = await exportAll('/fhir/Patient/$export');
    expect(Array.isArray(patient)).toBe(true);
    for (const r of patient as string[]) expect(VISIBLE[persona].has(r), r).toBe(true);
    expect((patient as string[]).filter((r) => !r.startsWith('Organization/') && !r.startsWith('Practitioner/')).sort()).toEqual(
      [...VISIBLE[persona]].filter((r) => !r.startsWith('Organization/') && !r.startsWith('Practitioner/')).sort(),
    );
    // The Group is the hospital's: nobody here may see it, so its export is refused as a read would be.
    const group = await refusedAndAudited(persona, 'GET', '/fhir/Group/grp/$export', undefined, { prefer: 'respond-async' });
    expect([403, 404]).toContain(group.status);
    expectNoB(group);
  });

  it('batch and transaction Bundles refuse B’s records entry by entry, and every refusal is audited', async () => {
    const before = await refusedCount(CONTEXTS[persona].subject);
    const batch = await call(persona, 'POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Observation/obs-b' } },
        { request: { method: 'GET', url: 'Observation?_id=obs-b,obs-a' } },
        { request: { method: 'GET', url: 'Patient/pat-b/_history' } },
        { request: { method: 'GET', url: 'Observation/obs-a' } },
        { request: { method: 'GET', url: 'Observation?subject:Patient.name=Zebedee&_include=Observation:performer' } },
      ],
    });
    expect(batch.status).toBe(200);
    const entries = batch.json.entry as Array<{ response: { status: string }; resource?: Bundle }>;
    const hidden = persona === 'citizen' ? '404' : '403';
    expect(entries[0]?.response.status).toMatch(new RegExp(`^${hidden}`));
    expect(matches(entries[1]?.resource as unknown as Record<string, unknown>)).toEqual(visibleOf(persona, 'Observation').filter((r) => r === 'Observation/obs-a'));
    expect(entries[2]?.response.status).toMatch(new RegExp(`^${hidden}`));
    expect(entries[3]?.response.status).toMatch(VISIBLE[persona].has('Observation/obs-a') ? /^200/ : /^40[34]/);
    expect((entries[4]?.resource as unknown as Record<string, unknown>).total).toBe(0);
    expectNoB(batch);
    expect(await refusedCount(CONTEXTS[persona].subject)).toBeGreaterThanOrEqual(before + 2);

    const transaction = await refusedAndAudited(persona, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 'Observation/obs-b' } }] });
    expect(transaction.status).toBe(Number(hidden));
    expect(transaction.text).not.toMatch(/B-SECRET|Zebedee/);
    if (persona === 'citizen') {
      const absent = await call(persona, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 'Observation/no-such' } }] });
      expect(transaction.text.replaceAll('obs-b', 'X')).toBe(absent.text.replaceAll('no-such', 'X'));
    }
  });

  it('history at system and type level shows only versions the caller may see', async () => {
    for (const path of ['/fhir/_history?_count=500', '/fhir/Observation/_history?_count=500', '/fhir/Patient/_history?_count=500']) {
      const answer = await call(persona, 'GET', path);
      expect(answer.status).toBe(200);
      expectNoB(answer);
      const entries = (answer.json.entry ?? []) as Array<{ fullUrl: string }>;
      expect(answer.json.total).toBe(entries.length);
      for (const e of entries) expect(VISIBLE[persona].has(e.fullUrl.replace(/^.*\/fhir\//, '')), e.fullUrl).toBe(true);
    }
  });

  it('$validate does not tell B’s record from one that does not exist', async () => {
    const hidden = await call(persona, 'POST', '/fhir/Observation/obs-b/$validate?mode=delete', { resourceType: 'Parameters', parameter: [] });
    const absent = await call(persona, 'POST', '/fhir/Observation/no-such/$validate?mode=delete', { resourceType: 'Parameters', parameter: [] });
    expect(hidden.status).toBe(absent.status);
    expect(hidden.text.replaceAll('obs-b', 'X')).toBe(absent.text.replaceAll('no-such', 'X'));
  });
});

/** Polls a bulk export's status URL until its manifest is ready. */
async function pollUntilDone(persona: Persona, kick: Answer): Promise<{ output: Array<{ type: string; url: string }> }> {
  const diagnostics = ((kick.json.issue ?? []) as Array<{ diagnostics?: string }>)[0]?.diagnostics ?? '';
  const statusUrl = /poll (\S+)$/.exec(diagnostics)?.[1] as string;
  for (let i = 0; i < 200; i++) {
    const status = await call(persona, 'GET', statusUrl);
    if (status.status === 200) return status.json as unknown as { output: Array<{ type: string; url: string }> };
    expect(status.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the export did not finish');
}

describe(`conditional writes never reveal B (${ENGINE})`, () => {
  it('If-None-Exist, conditional update and conditional delete whose criteria match only B act as if nothing matched', async () => {
    const mine = (extra: Record<string, unknown> = {}): Resource =>
      ({ resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: 'Patient/pat-a' }, meta: { source: src('M85001') }, ...extra });
    // The clinician of A's practice: B's Observation does not match, so a new one is created for A.
    const created = await call('related', 'POST', '/fhir/Observation', mine(), { 'if-none-exist': 'identifier=urn:test:obs|obs-b' });
    expect(created.status).toBe(201);
    expectNoB(created);
    const updated = await call('related', 'PUT', '/fhir/Observation?identifier=urn:test:obs|obs-b', mine());
    expect(updated.status).toBe(201);
    expectNoB(updated);
    const deleted = await call('related', 'DELETE', '/fhir/Observation?identifier=urn:test:obs|obs-b');
    const deletedAbsent = await call('related', 'DELETE', '/fhir/Observation?identifier=urn:test:obs|no-such');
    expect(deleted.status).toBe(404);
    expect(deleted.text.replaceAll('obs-b', 'X')).toBe(deletedAbsent.text.replaceAll('no-such', 'X'));
    // B's Observation is untouched.
    const b = await t.store.read('Observation', 'obs-b');
    expect(b.meta.versionId).toBe('1');
    expect((b as { valueString?: string }).valueString).toBe('B-SECRET');
    // The resident may not write at all: refused the same whether or not the criteria match B.
    const citizen = await refusedAndAudited('citizen', 'POST', '/fhir/Observation', mine(), { 'if-none-exist': 'identifier=urn:test:obs|obs-b' });
    const citizenAbsent = await call('citizen', 'POST', '/fhir/Observation', mine(), { 'if-none-exist': 'identifier=urn:test:obs|no-such' });
    expect(citizen.status).toBe(403);
    expect(citizen.text).toBe(citizenAbsent.text);
    // The unrelated clinician may not write to A's record either.
    expect((await refusedAndAudited('unrelated', 'POST', '/fhir/Observation', mine())).status).toBe(403);
  });
});
