import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { validateResource } from '../fhir/validate.js';
import { Feeds } from './feeds.js';
import { Random } from './random.js';
import { TEST_AREA, testRecords, testResident } from './testing.js';
import { FeedWriter, type Manifest, type WriterOptions, packResidents, prepareOutput } from './writer.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openics-writer-'));
  dirs.push(dir);
  return dir;
}
beforeAll(() => loadFhirDefinitions());
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PARAMETERS = { icb: 'QGH', people: 60, seed: 7, asOf: '2026-10-31', generator: 'test' };

function generate(out: string, options: WriterOptions): Manifest {
  const feeds = new Feeds(TEST_AREA, 7);
  const writer = new FeedWriter(out, options);
  // Batches of uneven sizes, as workers send them.
  for (let i = 0; i < 60; ) {
    const batch = [];
    for (const end = Math.min(60, i + 1 + (i % 7)); i < end; i++) {
      const resident = testResident(i);
      batch.push({ resident, feeds: feeds.feedsOf(resident, testRecords(resident), new Random(7, i)) });
    }
    writer.write(packResidents(batch));
  }
  return writer.finish(PARAMETERS);
}

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

describe('the feed writer', () => {
  const out = tempDir();
  // Tiny buffers, Bundles and a handful of open files, so every path of the writer runs.
  const manifest = generate(out, { bundleEntries: 25, fileBufferBytes: 300, totalBufferBytes: 3000, maxOpenFiles: 3 });

  it('writes NDJSON per holder and type, Bundles, the ground truth and a manifest that lists them all', () => {
    const files = allFiles(out);
    expect(files).toContain('feeds/RWP/Encounter.ndjson');
    expect(files).toContain('feeds/M81001/Observation.ndjson');
    expect(files).toContain('feeds/E10000034/ServiceRequest.ndjson');
    expect(files).toContain('bundles/RWP/00001.json');
    expect(files).toContain('ground-truth/residents.ndjson');
    expect(files).toContain('ground-truth/links.ndjson');
    expect(manifest.files.map((f) => f.path)).toEqual(files.filter((f) => f !== 'manifest.json'));
    for (const file of manifest.files) expect(statSync(join(out, file.path)).size, file.path).toBe(file.bytes);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(manifest).toMatchObject({ icb: 'QGH', people: 60, seed: 7, counts: { residents: 60 } });
    expect(lines(join(out, 'ground-truth/residents.ndjson'))).toHaveLength(60);
    const links = lines(join(out, 'ground-truth/links.ndjson'));
    expect(links).toHaveLength(manifest.counts.patients);
    const byType = manifest.counts.byHolder.RWP?.resources ?? {};
    expect(lines(join(out, 'feeds/RWP/Patient.ndjson'))).toHaveLength(byType.Patient ?? -1);
    expect(manifest.counts.byHolder.RYA).toMatchObject({ kind: 'ambulance', system: 'cad' });
  });

  it('writes each Organization once per holder, before anything refers to it', () => {
    for (const holder of Object.keys(manifest.counts.byHolder)) {
      const orgs = lines(join(out, `feeds/${holder}/Organization.ndjson`)).map((l) => (JSON.parse(l) as Resource).id);
      expect(new Set(orgs).size).toBe(orgs.length);
      expect(orgs).toContain(holder);
    }
  });

  it('writes transaction Bundles of idempotent PUTs, valid R4, each resident’s records together', () => {
    const links = lines(join(out, 'ground-truth/links.ndjson')).map((l) => JSON.parse(l) as { holder: string; patient: string });
    for (const holder of Object.keys(manifest.counts.byHolder)) {
      const bundleFiles = allFiles(out).filter((f) => f.startsWith(`bundles/${holder}/`));
      expect(bundleFiles.length).toBe(manifest.counts.byHolder[holder]?.bundles);
      const seen = new Set<string>();
      const ndjson = new Set<string>();
      for (const file of allFiles(out).filter((f) => f.startsWith(`feeds/${holder}/`))) for (const line of lines(join(out, file))) ndjson.add(line);
      for (const file of bundleFiles) {
        const bundle = JSON.parse(readFileSync(join(out, file), 'utf8')) as Bundle;
        expect(validateResource(bundle), file).toEqual([]);
        expect(bundle.type).toBe('transaction');
        const entries = bundle.entry ?? [];
        for (const entry of entries) {
          const resource = entry.resource as Resource & { id: string };
          expect(entry.request).toEqual({ method: 'PUT', url: `${resource.resourceType}/${resource.id}` });
          expect(ndjson.has(JSON.stringify(resource))).toBe(true);
          // Every reference points at something sent in this Bundle or an earlier one of the holder.
          for (const [, reference] of JSON.stringify(resource).matchAll(/"reference":"([^"]+)"/g)) expect(seen.has(reference ?? '') || entries.some((e) => `${e.resource?.resourceType}/${e.resource?.id}` === reference)).toBe(true);
        }
        for (const entry of entries) seen.add(`${entry.resource?.resourceType}/${entry.resource?.id}`);
        // A Bundle over the limit holds one resident's records only: they are never split.
        const patients = entries.filter((e) => e.resource?.resourceType === 'Patient');
        if (entries.length > 25) expect(patients).toHaveLength(1);
      }
      for (const link of links.filter((l) => l.holder === holder)) expect(seen.has(`Patient/${link.patient}`)).toBe(true);
    }
  });

  it('writes the same bytes whatever the buffer sizes and open-file limit', () => {
    const other = tempDir();
    const second = generate(other, { bundleEntries: 25 });
    expect(second).toEqual(manifest);
    for (const file of manifest.files) expect(readFileSync(join(other, file.path)).equals(readFileSync(join(out, file.path))), file.path).toBe(true);
  });

  it('leaves out the Bundles when asked, and writes the same NDJSON and ground truth', () => {
    const other = tempDir();
    const without = generate(other, { bundles: false });
    const kept = manifest.files.filter((f) => !f.path.startsWith('bundles/'));
    expect(kept.length).toBeGreaterThan(10);
    expect(without.files).toEqual(kept);
    expect(existsSync(join(other, 'bundles'))).toBe(false);
    expect(without.counts).toMatchObject({ residents: manifest.counts.residents, patients: manifest.counts.patients, resources: manifest.counts.resources, bundles: 0 });
    for (const file of kept) expect(readFileSync(join(other, file.path)).equals(readFileSync(join(out, file.path))), file.path).toBe(true);
  });
});

describe('prepareOutput', () => {
  it('replaces an earlier generation but refuses a directory holding anything else', () => {
    const dir = tempDir();
    generate(dir, {});
    prepareOutput(dir);
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(() => prepareOutput(dir)).toThrow(/is not empty/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    prepareOutput(join(dir, 'new', 'deeper'));
    expect(statSync(join(dir, 'new', 'deeper')).isDirectory()).toBe(true);
  });
});

describe('packed batches', () => {
  it('carry text that is not ASCII byte for byte', () => {
    const out = tempDir();
    const feeds = new Feeds(TEST_AREA, 7);
    const resident = { ...testResident(5), given: ['Zoë', 'Siân'], family: 'Ó Briain' };
    const writer = new FeedWriter(out, { fileBufferBytes: 64 });
    writer.write(packResidents([{ resident, feeds: feeds.feedsOf(resident, testRecords(resident), new Random(7, 5)) }]));
    writer.finish(PARAMETERS);
    const line = readFileSync(join(out, 'ground-truth/residents.ndjson'), 'utf8');
    expect(line).toBe(`${JSON.stringify(resident)}\n`);
    const patients = lines(join(out, `feeds/${resident.practice}/Patient.ndjson`)).map((l) => JSON.parse(l) as { name: Array<{ given: string[] }> });
    expect(patients[0]?.name[0]?.given[0]).toMatch(/^(Zoë|Zoe|Zo)/);
  });
});
