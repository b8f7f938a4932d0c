import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { validateResource } from '../fhir/validate.js';
import type { GroundTruthLink } from './feeds.js';
import { FLAW_RATES, type SourceKind } from './flaws.js';
import { GENERATOR_VERSION, type Progress, generate } from './generate.js';
import { NHS_NUMBER_SYSTEM, type Resident, SOURCE_PREFIX } from './model.js';
import type { Manifest } from './writer.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openics-generate-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 120_000);

function allFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);

const PEOPLE = 1000;
const SEED = 42;
const AS_OF = '2026-10-31';

// One population made with two worker threads, and again with one: everything else reads them.
let two: string;
let one: string;
let manifest: Manifest;
const progress: Progress[] = [];
beforeAll(async () => {
  loadFhirDefinitions();
  two = tempDir();
  one = tempDir();
  manifest = await generate({ icb: 'QGH', people: PEOPLE, seed: SEED, asOf: AS_OF, out: two, workers: 2, onProgress: (p) => progress.push(p) });
  await generate({ icb: 'QGH', people: PEOPLE, seed: SEED, asOf: AS_OF, out: one, workers: 1 });
}, 600_000);

describe(`a generated population (${PEOPLE} residents of QGH)`, () => {
  it('is the same, byte for byte, whatever the number of workers', () => {
    const files = allFiles(two);
    expect(allFiles(one)).toEqual(files);
    for (const file of files) {
      if (!readFileSync(join(one, file)).equals(readFileSync(join(two, file)))) expect.fail(`${file} differs between 1 and 2 workers`);
    }
    expect(files.length).toBeGreaterThan(100);
  });

  it('is the same, byte for byte, made again on the main thread; another seed gives another population', async () => {
    const again = tempDir();
    await generate({ icb: 'QGH', people: 150, seed: SEED, asOf: AS_OF, out: again, workers: 0 });
    const repeat = tempDir();
    await generate({ icb: 'QGH', people: 150, seed: SEED, asOf: AS_OF, out: repeat, workers: 0 });
    for (const file of allFiles(again)) {
      if (!readFileSync(join(again, file)).equals(readFileSync(join(repeat, file)))) expect.fail(`${file} differs between two runs`);
    }
    const other = tempDir();
    await generate({ icb: 'QGH', people: 150, seed: SEED + 1, asOf: AS_OF, out: other, workers: 0 });
    const residents = (dir: string): Resident[] => lines(join(dir, 'ground-truth/residents.ndjson')).map((l) => JSON.parse(l) as Resident);
    const a = residents(again);
    const b = residents(other);
    expect(a).toHaveLength(150);
    expect(b).toHaveLength(150);
    const numbers = new Set(a.map((r) => r.nhsNumber));
    expect(b.filter((r) => numbers.has(r.nhsNumber)).length).toBeLessThan(15);
    expect(b.map((r) => `${r.family} ${r.birthDate}`)).not.toEqual(a.map((r) => `${r.family} ${r.birthDate}`));
  }, 300_000);

  it('has the manifest of what it wrote, with the residents asked for', () => {
    expect(manifest).toMatchObject({ icb: 'QGH', people: PEOPLE, seed: SEED, asOf: AS_OF, generator: GENERATOR_VERSION, counts: { residents: PEOPLE } });
    expect(JSON.parse(readFileSync(join(two, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(manifest.files.map((f) => f.path)).toEqual(allFiles(two).filter((f) => f !== 'manifest.json'));
    expect(lines(join(two, 'ground-truth/residents.ndjson'))).toHaveLength(PEOPLE);
    const kinds = new Set(Object.values(manifest.counts.byHolder).map((h) => h.kind));
    expect([...kinds].sort()).toEqual(['acute', 'ambulance', 'community', 'gp', 'mental-health', 'social-care'].filter((k) => kinds.has(k as SourceKind)).sort());
    expect(kinds.size).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toMatchObject({ residents: PEOPLE, people: PEOPLE, done: true });
  });

  // Read once for the checks below: every resource of every holder, with the file it came from.
  const feeds = new Map<string, Array<{ file: string; resource: Resource & { id: string } }>>();
  const read = (): typeof feeds => {
    if (feeds.size > 0) return feeds;
    for (const file of allFiles(two).filter((f) => f.startsWith('feeds/'))) {
      const holder = file.split('/')[1] ?? '';
      const list = feeds.get(holder) ?? [];
      for (const line of lines(join(two, file))) list.push({ file, resource: JSON.parse(line) as Resource & { id: string } });
      feeds.set(holder, list);
    }
    return feeds;
  };

  it('writes only valid R4, line by line and Bundle by Bundle', () => {
    let checked = 0;
    const covered = new Set<string>();
    for (const [holder, list] of read()) {
      const kind = manifest.counts.byHolder[holder]?.kind ?? 'unknown';
      for (const { file, resource } of list) {
        const issues = validateResource(resource);
        if (issues.length > 0) expect.fail(`${file}: ${resource.resourceType}/${resource.id}: ${JSON.stringify(issues)}`);
        checked += 1;
        covered.add(`${kind} ${resource.resourceType}`);
      }
    }
    expect(checked).toBe(manifest.counts.resources);
    // Every type each kind of holder emits (history.ts, feeds.ts) was among those validated. QGH has
    // no holder of kind community: its community services are run by RLQ (acute) and R1A (mental health).
    const emitted: Partial<Record<SourceKind, string[]>> = {
      gp: ['AllergyIntolerance', 'CarePlan', 'CareTeam', 'Condition', 'Encounter', 'Immunization', 'MedicationRequest', 'Observation', 'Organization', 'Patient'],
      acute: ['CareTeam', 'Condition', 'Encounter', 'EpisodeOfCare', 'Organization', 'Patient', 'Procedure', 'ServiceRequest'],
      'mental-health': ['CarePlan', 'CareTeam', 'Encounter', 'EpisodeOfCare', 'Organization', 'Patient'],
      'social-care': ['CarePlan', 'CareTeam', 'Encounter', 'EpisodeOfCare', 'Organization', 'Patient'],
      ambulance: ['Encounter', 'Organization', 'Patient'],
    };
    const missing = Object.entries(emitted).flatMap(([kind, types]) => types.map((type) => `${kind} ${type}`).filter((pair) => !covered.has(pair)));
    expect(missing).toEqual([]);
    for (const file of allFiles(two).filter((f) => f.startsWith('bundles/'))) {
      const bundle = JSON.parse(readFileSync(join(two, file), 'utf8')) as Bundle;
      const issues = validateResource(bundle);
      if (issues.length > 0) expect.fail(`${file}: ${JSON.stringify(issues.slice(0, 3))}`);
      expect(bundle.entry?.length ?? 0).toBeLessThanOrEqual(1000);
    }
  }, 300_000);

  it('resolves every reference within the holder’s own feed, and tags each resource with its holder', () => {
    for (const [holder, list] of read()) {
      const present = new Set(list.map(({ resource }) => `${resource.resourceType}/${resource.id}`));
      for (const { file, resource } of list) {
        if (resource.resourceType !== 'Organization' && resource.meta?.source?.startsWith(`${SOURCE_PREFIX}${holder}:`) !== true) expect.fail(`${file}: ${resource.id} has meta.source ${resource.meta?.source}`);
        for (const [, reference] of JSON.stringify(resource).matchAll(/"reference":"([^"]+)"/g)) {
          if (!present.has(reference ?? '')) expect.fail(`${file}: ${resource.resourceType}/${resource.id} refers to ${reference}, which ${holder}'s feed does not hold`);
        }
      }
    }
  }, 120_000);

  it('links every Patient to its resident in the ground truth, and nothing else does', () => {
    const residents = new Map(lines(join(two, 'ground-truth/residents.ndjson')).map((l) => [(JSON.parse(l) as Resident).id, JSON.parse(l) as Resident]));
    const links = lines(join(two, 'ground-truth/links.ndjson')).map((l) => JSON.parse(l) as GroundTruthLink);
    const byPatient = new Map(links.map((l) => [`${l.holder}/${l.patient}`, l]));
    expect(byPatient.size).toBe(links.length);
    let patients = 0;
    const holdersOf = new Map<string, Set<string>>();
    for (const [holder, list] of read()) {
      for (const { resource } of list.filter((r) => r.resource.resourceType === 'Patient')) {
        patients += 1;
        const link = byPatient.get(`${holder}/${resource.id}`);
        if (link === undefined) expect.fail(`${holder}'s Patient/${resource.id} is not in the ground truth`);
        const resident = residents.get(link.resident);
        expect(resident).toBeDefined();
        expect((resource as Patient).identifier?.[0]?.value).toBe(link.identifier.value);
        const nhs = (resource as Patient).identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
        if (nhs !== undefined) expect(nhs).toBe(resident?.nhsNumber);
        holdersOf.set(link.resident, (holdersOf.get(link.resident) ?? new Set()).add(holder));
      }
    }
    expect(patients).toBe(links.length);
    // Every resident is at least at their practice; most are known to more than one organisation.
    expect(holdersOf.size).toBe(PEOPLE);
    for (const [id, holders] of holdersOf) expect(holders.has(residents.get(id)?.practice ?? '?')).toBe(true);
    expect([...holdersOf.values()].filter((h) => h.size >= 2).length).toBeGreaterThan(PEOPLE / 2);
  }, 60_000);

  it('names next of kin only from the resident’s own household, on the practice’s and the council’s copies', () => {
    const residents = new Map(lines(join(two, 'ground-truth/residents.ndjson')).map((l) => [(JSON.parse(l) as Resident).id, JSON.parse(l) as Resident]));
    const links = new Map(lines(join(two, 'ground-truth/links.ndjson')).map((l) => JSON.parse(l) as GroundTruthLink).map((l) => [`${l.holder}/${l.patient}`, l]));
    const years = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / (365.25 * 86_400_000);
    const byResident = new Map<string, string>();
    let withContact = 0;
    const relationships = new Set<string>();
    for (const [holder, list] of read()) {
      const kind = manifest.counts.byHolder[holder]?.kind;
      for (const { resource } of list.filter((r) => r.resource.resourceType === 'Patient')) {
        const contacts = (resource as Patient).contact ?? [];
        if (contacts.length === 0) continue;
        if (kind !== 'gp' && kind !== 'social-care') expect.fail(`${holder} (${kind}) records a next of kin`);
        const resident = residents.get(links.get(`${holder}/${resource.id}`)?.resident ?? '') as Resident;
        expect(contacts).toHaveLength(1);
        const contact = contacts[0] as NonNullable<Patient['contact']>[number];
        // A real member of the same household, under their own true name, alive, and not the resident.
        const kin = [...residents.values()].filter((r) => r.household !== undefined && r.household === resident.household && r.id !== resident.id && r.family === contact.name?.family && r.given.join(' ') === contact.name?.given?.join(' '));
        if (kin.length === 0) expect.fail(`${holder}/${resource.id}: next of kin ${JSON.stringify(contact.name)} is nobody in the resident's household`);
        const them = kin[0] as Resident;
        expect(them.deathDate).toBeUndefined();
        expect(contact.gender).toBe(them.sex);
        const code = contact.relationship?.[0]?.coding?.[0]?.code ?? '';
        relationships.add(code);
        expect(contact.relationship?.[1]?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' });
        // The relationship agrees with their sexes and ages.
        if (code === 'MTH' || code === 'FTH') expect(years(them.birthDate, resident.birthDate)).toBeGreaterThanOrEqual(16);
        if (code === 'SONC' || code === 'DAUC') expect(years(resident.birthDate, them.birthDate)).toBeGreaterThanOrEqual(16);
        if (code === 'MTH' || code === 'WIFE' || code === 'DAUC') expect(them.sex).toBe('female');
        if (code === 'FTH' || code === 'HUSB' || code === 'SONC') expect(them.sex).toBe('male');
        if (code === 'MTH' && resident.mother !== undefined) expect(them.id).toBe(resident.mother);
        // The practice and the council name the same person.
        const seen = byResident.get(resident.id);
        if (seen !== undefined) expect(them.id).toBe(seen);
        byResident.set(resident.id, them.id);
        withContact += 1;
      }
    }
    expect(byResident.size).toBeGreaterThan(PEOPLE / 5);
    expect(withContact).toBeGreaterThanOrEqual(byResident.size);
    for (const code of ['MTH', 'WIFE', 'HUSB']) expect(relationships.has(code), `${code} never used`).toBe(true);
    // Nobody living alone has one.
    for (const id of byResident.keys()) expect(residents.get(id)?.household).toBeDefined();
  }, 120_000);

  it('gives resources ids that reveal neither the resident nor the NHS number', () => {
    const residents = lines(join(two, 'ground-truth/residents.ndjson')).map((l) => JSON.parse(l) as Resident);
    const secrets = residents.flatMap((r) => [r.id, r.nhsNumber, r.id.replace(/^R0*/, '')]).filter((s) => s.length >= 4);
    const secretSet = new Set(secrets);
    for (const [, list] of read()) {
      for (const { resource } of list) {
        if (resource.resourceType === 'Organization') continue;
        if (!/^[a-z2-7]{22}$/.test(resource.id) || secretSet.has(resource.id)) expect.fail(`${resource.resourceType}/${resource.id} is not an opaque id`);
      }
    }
  }, 120_000);

  it('leaves out NHS numbers at each kind of source’s rate', () => {
    const missing = new Map<SourceKind, [number, number]>();
    for (const [holder, list] of read()) {
      const kind = manifest.counts.byHolder[holder]?.kind;
      if (kind === undefined) continue;
      const counts = missing.get(kind) ?? [0, 0];
      for (const { resource } of list.filter((r) => r.resource.resourceType === 'Patient')) {
        counts[1] += 1;
        if (!(resource as Patient).identifier?.some((i) => i.system === NHS_NUMBER_SYSTEM)) counts[0] += 1;
      }
      missing.set(kind, counts);
    }
    for (const [kind, [without, copies]] of missing) {
      const p = FLAW_RATES[kind].missingNhsNumber;
      const sd = Math.sqrt(copies * p * (1 - p));
      expect(Math.abs(without - copies * p), `${kind}: ${without} of ${copies} without an NHS number`).toBeLessThanOrEqual(5 * sd + 1);
    }
    expect(missing.get('gp')?.[0]).toBe(0);
  });
});
