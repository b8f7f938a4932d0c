/**
 * Reads NHS England's GP-practice population files shipped in /reference-data.
 * The 2022/23 file gives each practice its PCN and local authorities; the 2025/26 file gives
 * current populations and weighted populations, and practices opened since.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';

const DIR = new URL('../../reference-data/', import.meta.url);

export interface PracticeRecord {
  code: string;
  name: string;
  postcode: string;
  latitude: number | null;
  longitude: number | null;
  icbCode: string;
  icbName: string;
  region: string;
  pcnCode: string | null;
  pcnName: string | null;
  ladCode: string;
  ladName: string;
  upperTierCode: string | null;
  upperTierName: string | null;
  registeredPatients: number | null;
  population: number | null;
  weightedPopulation: number | null;
}

function readCsv(file: string): Record<string, string>[] {
  const text = gunzipSync(fs.readFileSync(new URL(file, DIR))).toString('utf8');
  return parse<Record<string, string>>(text, { columns: true, bom: true, skip_empty_lines: true });
}

const num = (v: string | undefined): number | null => (v === undefined || v.trim() === '' ? null : Number(v));
const text = (v: string | undefined): string | null => (v === undefined || v.trim() === '' ? null : v.trim());

let cache: PracticeRecord[] | undefined;

/** Every practice in England, merged from both files. Parsed once per process (about 0.5 s). */
export function allPractices(): PracticeRecord[] {
  if (cache) return cache;
  const older = readCsv('nhse-gp-practice-weighted-populations-2022-23-with-pcn.csv.gz');
  const newer = new Map(readCsv('nhse-gp-practice-weighted-populations-2025-26.csv.gz').map((r) => [r.Practice_Code ?? '', r]));
  const records: PracticeRecord[] = [];
  const seen = new Set<string>();
  for (const r of older) {
    const code = r.Practice_Code ?? '';
    const current = newer.get(code);
    seen.add(code);
    records.push({
      code,
      name: toTitleCase(r.GP_Practice_Name ?? code),
      postcode: r.Practice_Postcode ?? '',
      latitude: num(r.Latitude),
      longitude: num(r.Longitude),
      icbCode: r.ICS22 ?? '',
      icbName: r.ICS22name ?? '',
      region: r.Region22 ?? '',
      pcnCode: text(r.PCN_Code),
      pcnName: text(r.PCN_Name),
      ladCode: r.LAD21 ?? '',
      ladName: r.LTLA21 ?? '',
      upperTierCode: text(r.LA21),
      upperTierName: text(r.UTLA21),
      registeredPatients: num(r.Patients),
      population: num(current?.Population),
      weightedPopulation: num(current?.['Final WP']),
    });
  }
  // Practices opened since 2022/23 have no PCN in the data: they join their ICS unassigned,
  // and the rules check shows them until someone places them in a PCN.
  for (const [code, r] of newer) {
    if (seen.has(code)) continue;
    records.push({
      code,
      name: toTitleCase(r.GP_Practice_Name ?? code),
      postcode: r.Practice_Postcode ?? '',
      latitude: num(r.Latitude),
      longitude: num(r.Longitude),
      icbCode: r.ICB ?? '',
      icbName: r.ICBname ?? '',
      region: r.Region ?? '',
      pcnCode: null,
      pcnName: null,
      ladCode: r.LAD ?? '',
      ladName: r.LTLA ?? '',
      upperTierCode: null,
      upperTierName: null,
      registeredPatients: null,
      population: num(r.Population),
      weightedPopulation: num(r['Final WP']),
    });
  }
  cache = records;
  return records;
}

export function practicesOf(icbCode: string): PracticeRecord[] {
  return allPractices().filter((p) => p.icbCode === icbCode);
}

/** The 42 ICBs, by code, with their names. */
export function icbs(): { code: string; name: string; region: string; practices: number }[] {
  const byCode = new Map<string, { code: string; name: string; region: string; practices: number }>();
  for (const p of allPractices()) {
    const entry = byCode.get(p.icbCode) ?? { code: p.icbCode, name: p.icbName, region: p.region, practices: 0 };
    entry.practices += 1;
    byCode.set(p.icbCode, entry);
  }
  return [...byCode.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Names arrive in capitals (2025/26) or with stray capitals after apostrophes (2022/23). */
export function toTitleCase(name: string): string {
  const cased = name === name.toUpperCase() ? name.toLowerCase().replace(/\b([a-z])/g, (c) => c.toUpperCase()) : name;
  return cased.replace(/\bPcn\b/g, 'PCN').replace(/\bGp\b/g, 'GP').replace(/'S\b/g, "'s");
}
