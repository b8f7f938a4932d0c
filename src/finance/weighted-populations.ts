/**
 * NHS England's 2025/26 GP practice weighted populations, by need component, read from the file
 * the ICB place-based allocation tool itself uses (reference-data/, from
 * nhsengland/ICB_Allocation_Tool_update data/2025_2026.csv), prepared as that tool prepares it:
 * every missing value filled with 1 and every zero replaced by 1 (pandas fillna(1).replace(0, 1)).
 *
 * PCNs are not in the 2025/26 file; they come from the 2022/23 file through the structure
 * module's reader. Practices opened since 2022/23 have no PCN.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { NotFoundError } from '../core/errors.js';
import { allPractices, toTitleCase } from '../structure/reference-data.js';
import { cleanAreaName } from '../structure/skeleton.js';
import { COMPONENTS, type ComponentKey } from './model.js';

const FILE = new URL('../../reference-data/nhse-gp-practice-weighted-populations-2025-26.csv.gz', import.meta.url);

export type Weighted = Record<ComponentKey, number>;

export interface NeedPractice {
  code: string;
  name: string;
  /** Position in NHS England's file: the tool sums in this order. */
  row: number;
  icbCode: string;
  icbName: string;
  ladCode: string;
  ladName: string;
  /** The upper-tier council of the district (the district itself for a unitary). */
  upperTierCode: string;
  upperTierName: string;
  pcnCode: string | null;
  pcnName: string | null;
  /** The allocation population (2025/26), after NHS England's fill. */
  population: number;
  /** Weighted population by component, after NHS England's fill. */
  wp: Weighted;
  /** The columns that were blank or zero in the file and were set to 1. */
  filled: string[];
}

let cache: NeedPractice[] | undefined;
let byIcb: Map<string, NeedPractice[]> | undefined;

/** NHS England's fill: a blank or unreadable value becomes 1, and so does a zero. */
export function nhseValue(raw: string | undefined): { value: number; filled: boolean } {
  const trimmed = raw?.trim() ?? '';
  const n = trimmed === '' ? Number.NaN : Number(trimmed);
  if (Number.isNaN(n) || n === 0) return { value: 1, filled: true };
  return { value: n, filled: false };
}

/** Every practice in England in the 2025/26 file, in file order. Parsed once per process. */
export function needPractices(): NeedPractice[] {
  if (cache) return cache;
  const text = gunzipSync(fs.readFileSync(FILE)).toString('utf8');
  const rows = parse<Record<string, string>>(text, { columns: true, bom: true, skip_empty_lines: true });
  const older = new Map(allPractices().map((p) => [p.code, p]));
  // The upper-tier council of each shire district, learnt from the 2022/23 file.
  const upperTier = new Map<string, { code: string; name: string }>();
  for (const p of older.values()) if (p.upperTierCode && p.upperTierName && !upperTier.has(p.ladCode)) upperTier.set(p.ladCode, { code: p.upperTierCode, name: p.upperTierName });
  cache = rows.map((r, row) => {
    const code = r.Practice_Code ?? '';
    const old = older.get(code);
    const ladCode = r.LAD ?? '';
    const ladName = cleanAreaName(r.LTLA ?? ladCode);
    const upper = ladCode.startsWith('E07') ? upperTier.get(ladCode) : undefined;
    const filled: string[] = [];
    const population = nhseValue(r.Population);
    if (population.filled) filled.push('Population');
    const wp = {} as Weighted;
    for (const c of COMPONENTS) {
      const v = nhseValue(r[c.column]);
      if (v.filled) filled.push(c.column);
      wp[c.key] = v.value;
    }
    return {
      code,
      name: toTitleCase(r.GP_Practice_Name ?? code),
      row,
      icbCode: r.ICB ?? '',
      icbName: r.ICBname ?? '',
      ladCode,
      ladName,
      upperTierCode: upper?.code ?? ladCode,
      upperTierName: upper ? cleanAreaName(upper.name) : ladName,
      pcnCode: old?.pcnCode ?? null,
      pcnName: old?.pcnName ? toTitleCase(old.pcnName) : null,
      population: population.value,
      wp,
      filled,
    };
  });
  return cache;
}

/** The practices of one ICB (by its ODS code), in file order. */
export function needPracticesOf(icbCode: string): NeedPractice[] {
  if (!byIcb) {
    byIcb = new Map();
    for (const p of needPractices()) {
      const list = byIcb.get(p.icbCode) ?? [];
      list.push(p);
      byIcb.set(p.icbCode, list);
    }
  }
  const found = byIcb.get(icbCode.toUpperCase());
  if (!found) throw new NotFoundError(`ICB ${icbCode} in NHS England's 2025/26 practice data`);
  return found;
}

/** The 42 ICBs of the 2025/26 file. */
export function needIcbs(): { code: string; name: string; practices: number }[] {
  const seen = new Map<string, { code: string; name: string; practices: number }>();
  for (const p of needPractices()) {
    const entry = seen.get(p.icbCode) ?? { code: p.icbCode, name: p.icbName, practices: 0 };
    entry.practices += 1;
    seen.set(p.icbCode, entry);
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Practice code → place name, drawn from the data: one place per district, upper-tier council or PCN. */
export function placesBy(practices: NeedPractice[], basis: 'districts' | 'upper_tier' | 'pcns'): Map<string, string> {
  const result = new Map<string, string>();
  for (const p of practices) {
    switch (basis) {
      case 'districts':
        result.set(p.code, p.ladName);
        break;
      case 'upper_tier':
        result.set(p.code, p.upperTierName);
        break;
      case 'pcns':
        result.set(p.code, p.pcnName ?? 'Practices with no PCN in the data');
        break;
    }
  }
  return result;
}
