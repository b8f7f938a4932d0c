/**
 * The profile of a generated population against its documented targets (prevalence.ts and, for
 * activity, activity.ts): the age pyramid, prevalence by age band and by IMD quintile,
 * multimorbidity, frailty, smoking, ethnicity, households and deaths, each row with its target,
 * tolerance and PASS/FAIL. `PopulationProfiler` takes residents one at a time (streaming, nothing
 * kept per resident but a household count), so it profiles any size; `formatProfile` prints it.
 *
 * Only residents alive at `asOf` count for the population tables (as a practice list would);
 * those who died in the window count for the death rate.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AllergyIntolerance, Resource } from '@medplum/fhirtypes';
import { ACTIVITY_TARGETS } from './activity.js';
import { ALLERGY_CODES } from './codes.js';
import { ActivityMeasurer, type ActivityMeasure } from './activity-measure.js';
import { type Area, loadArea } from './geography.js';
import type { ConditionKey, Frailty, HeldRecord, Resident } from './model.js';
import {
  AGE_BAND_LABELS,
  type AllergyKey,
  allergyTargets,
  CONDITIONS,
  ETHNIC_CATEGORIES,
  FRAILTY_BY_AGE,
  HOUSEHOLD_TARGETS,
  MAX_AGE,
  MULTIMORBIDITY_TARGETS,
  PYRAMID_BANDS,
  ageBandOf,
  agePyramidTargets,
  annualDeathProbability,
  ethnicityWeights,
  expectedStructure,
  prevalenceTargets,
  pyramidLabel,
  quintileOf,
  smokingTargets,
  tolerance,
} from './prevalence.js';

export interface ProfileRow {
  label: string;
  /** People the share is of (its denominator). */
  n: number;
  observed: number;
  target: number;
  /** Allowed |observed − target|; for range targets, half the range. */
  tolerance: number;
  /** False when too few people to judge (expected cases under 10): shown, not counted. */
  judged: boolean;
  pass: boolean;
  /** How the value is shown: a share (percent) or a plain number. */
  unit: 'share' | 'number';
  /** For range targets (multimorbidity): the accepted range. */
  range?: [number, number];
}

export interface ProfileSection {
  title: string;
  note: string;
  rows: ProfileRow[];
}

export interface PopulationProfile {
  icb: string;
  asOf: string;
  residents: number;
  living: number;
  died: number;
  households: number;
  sections: ProfileSection[];
  passed: number;
  failed: number;
  notJudged: number;
}

const DAY_MS = 86_400_000;
function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}
function ageOn(birthDate: string, date: string): number {
  const by = Number(birthDate.slice(0, 4));
  const bmd = birthDate.slice(5);
  const y = Number(date.slice(0, 4));
  return y - by - (date.slice(5) < bmd ? 1 : 0);
}

const N_BANDS = AGE_BAND_LABELS.length;
const CONDITION_INDEX = new Map<ConditionKey, number>(CONDITIONS.map((c, i) => [c.key, i]));
/** Barnett's conditions: every modelled condition except obesity (a risk factor, not counted there). */
const MULTIMORBIDITY_CONDITIONS = new Set<ConditionKey>(CONDITIONS.map((c) => c.key).filter((k) => k !== 'obesity'));
const FRAILTY_LEVELS: Frailty[] = ['fit', 'mild', 'moderate', 'severe'];
const ETHNIC_CODES = ETHNIC_CATEGORIES.filter((e) => e.code !== 'Z').map((e) => e.code);

function row(label: string, n: number, observed: number, target: number, tol: number, judged = true, unit: ProfileRow['unit'] = 'share'): ProfileRow {
  return { label, n, observed, target, tolerance: tol, judged, pass: Math.abs(observed - target) <= tol, unit };
}

/** Collects residents one at a time; `result()` compares them with the area's targets. */
export class PopulationProfiler {
  private residents = 0;
  private living = 0;
  private died = 0;
  private personYears = 0;
  private readonly pyramid = new Float64Array(PYRAMID_BANDS.length * 2);
  private readonly bandPeople = new Float64Array(N_BANDS);
  private readonly bandCases = new Float64Array(N_BANDS * CONDITIONS.length);
  private readonly quintilePeople = new Float64Array(5);
  private readonly quintileCases = new Float64Array(5 * CONDITIONS.length);
  private readonly multiPeople = new Float64Array(MULTIMORBIDITY_TARGETS.length * 5);
  private readonly multiCases = new Float64Array(MULTIMORBIDITY_TARGETS.length * 5);
  private readonly frailty = new Float64Array(FRAILTY_BY_AGE.length * 4);
  private adults18 = 0;
  private currentSmokers = 0;
  private exSmokers = 0;
  private readonly ethnicity = new Map<string, number>();
  private readonly householdLiving = new Map<string, number>();
  private livingAlone = 0;
  private readonly windowStart: number;
  private readonly asOfDay: number;

  constructor(
    private readonly area: Area,
    private readonly asOf: string,
  ) {
    this.asOfDay = dayOf(asOf);
    this.windowStart = this.asOfDay - Math.round(5 * 365.2425);
  }

  add(r: Resident): void {
    this.residents += 1;
    const birth = dayOf(r.birthDate);
    const end = r.deathDate === undefined ? this.asOfDay : dayOf(r.deathDate);
    const from = Math.max(this.windowStart, birth);
    if (end > from) this.personYears += (end - from) / 365.2425;
    if (r.deathDate !== undefined) {
      this.died += 1;
      return;
    }
    this.living += 1;
    const age = Math.min(MAX_AGE, ageOn(r.birthDate, this.asOf));
    const quintile = quintileOf(r.imdDecile);
    const male = r.sex === 'male' ? 0 : 1;
    const p = Math.min(PYRAMID_BANDS.length - 1, Math.floor(age / 5));
    this.pyramid[p * 2 + male] = (this.pyramid[p * 2 + male] as number) + 1;
    const band = ageBandOf(age);
    this.bandPeople[band] = (this.bandPeople[band] as number) + 1;
    this.quintilePeople[quintile - 1] = (this.quintilePeople[quintile - 1] as number) + 1;
    let count = 0;
    for (const c of r.conditions) {
      const k = CONDITION_INDEX.get(c.key);
      if (k === undefined) continue;
      this.bandCases[band * CONDITIONS.length + k] = (this.bandCases[band * CONDITIONS.length + k] as number) + 1;
      this.quintileCases[(quintile - 1) * CONDITIONS.length + k] = (this.quintileCases[(quintile - 1) * CONDITIONS.length + k] as number) + 1;
      if (MULTIMORBIDITY_CONDITIONS.has(c.key)) count += 1;
    }
    const m = MULTIMORBIDITY_TARGETS.findIndex((t) => age >= t.from && age <= t.to);
    if (m >= 0) {
      const cell = m * 5 + quintile - 1;
      this.multiPeople[cell] = (this.multiPeople[cell] as number) + 1;
      if (count >= 2) this.multiCases[cell] = (this.multiCases[cell] as number) + 1;
    }
    if (age >= 65) {
      const f = age >= 85 ? 2 : age >= 75 ? 1 : 0;
      const level = FRAILTY_LEVELS.indexOf(r.frailty);
      this.frailty[f * 4 + level] = (this.frailty[f * 4 + level] as number) + 1;
    }
    if (age >= 18) {
      this.adults18 += 1;
      if (r.smoking === 'current') this.currentSmokers += 1;
      else if (r.smoking === 'ex') this.exSmokers += 1;
    }
    this.ethnicity.set(r.ethnicity, (this.ethnicity.get(r.ethnicity) ?? 0) + 1);
    if (r.household === undefined) this.livingAlone += 1;
    else this.householdLiving.set(r.household, (this.householdLiving.get(r.household) ?? 0) + 1);
  }

  result(): PopulationProfile {
    const lsoas = this.area.lsoas;
    const sections: ProfileSection[] = [];
    const living = this.living || 1;

    // Age pyramid.
    const pyramidTargets = agePyramidTargets(lsoas);
    sections.push({
      title: 'Age pyramid (share of living residents)',
      note: "Targets: each LSOA's IMD file 6 age groups (0–15, 16–59, 60+), spread by England's mid-2022 age and sex structure (prevalence.ts).",
      rows: pyramidTargets.flatMap((t, i) => [
        row(`${t.band} male`, this.living, (this.pyramid[i * 2] as number) / living, t.male, tolerance(t.male, this.living)),
        row(`${t.band} female`, this.living, (this.pyramid[i * 2 + 1] as number) / living, t.female, tolerance(t.female, this.living)),
      ]),
    });

    // Prevalence by age band and by quintile.
    const targets = prevalenceTargets(lsoas);
    const byAge: ProfileRow[] = [];
    for (const t of targets.byAge) {
      const k = CONDITION_INDEX.get(t.condition) as number;
      const band = AGE_BAND_LABELS.indexOf(t.group);
      const n = this.bandPeople[band] as number;
      const observed = n > 0 ? (this.bandCases[band * CONDITIONS.length + k] as number) / n : 0;
      byAge.push(row(`${t.condition} ${t.group}`, n, observed, t.prevalence, tolerance(t.prevalence, n), t.prevalence * n >= 10));
    }
    sections.push({
      title: 'Prevalence by age band (living residents)',
      note: 'Targets: the condition tables of prevalence.ts (QOF 2023-24 levels, published age/sex shapes, deprivation gradients) over the area’s own age, sex and IMD mix. Not judged where fewer than 10 cases are expected.',
      rows: byAge,
    });
    const byQuintile: ProfileRow[] = [];
    for (const t of targets.byQuintile) {
      const k = CONDITION_INDEX.get(t.condition) as number;
      const q = Number(t.group.slice(1)) - 1;
      const n = this.quintilePeople[q] as number;
      const observed = n > 0 ? (this.quintileCases[q * CONDITIONS.length + k] as number) / n : 0;
      byQuintile.push(row(`${t.condition} ${t.group}`, n, observed, t.prevalence, tolerance(t.prevalence, n), t.prevalence * n >= 10));
    }
    sections.push({
      title: 'Prevalence by IMD 2019 quintile, all ages (Q1 most deprived)',
      note: 'Targets as above; quintiles mix ages differently, so compare each with its own target.',
      rows: byQuintile,
    });

    // Multimorbidity.
    const multi: ProfileRow[] = [];
    MULTIMORBIDITY_TARGETS.forEach((t, m) => {
      let people = 0;
      let cases = 0;
      for (let q = 0; q < 5; q++) {
        people += this.multiPeople[m * 5 + q] as number;
        cases += this.multiCases[m * 5 + q] as number;
      }
      const observed = people > 0 ? cases / people : 0;
      const r = row(`2+ conditions, ${t.label}`, people, observed, t.barnett, (t.max - t.min) / 2, people >= 30);
      r.range = [t.min, t.max];
      r.pass = observed >= t.min && observed <= t.max;
      multi.push(r);
    });
    // Deprivation: within each age band with enough people, quintile 1 above quintile 5.
    MULTIMORBIDITY_TARGETS.forEach((t, m) => {
      const q1n = this.multiPeople[m * 5] as number;
      const q5n = this.multiPeople[m * 5 + 4] as number;
      if (t.from < 25) return;
      const q1 = q1n > 0 ? (this.multiCases[m * 5] as number) / q1n : 0;
      const q5 = q5n > 0 ? (this.multiCases[m * 5 + 4] as number) / q5n : 0;
      const r = row(`Q1 ÷ Q5, ${t.label}`, q1n + q5n, q5 > 0 ? q1 / q5 : 0, 1, 0, q1n >= 50 && q5n >= 50, 'number');
      r.range = [1, Infinity];
      // Q1 above Q5, allowing two standard errors of the difference (small quintiles are noisy).
      const se = Math.sqrt((q1 * (1 - q1)) / (q1n || 1) + (q5 * (1 - q5)) / (q5n || 1));
      r.pass = q1 - q5 > -2 * se;
      multi.push(r);
    });
    sections.push({
      title: 'Multimorbidity (two or more of the 16 modelled conditions, obesity not counted)',
      note: 'Target: Barnett et al. 2012 (40 conditions) for the shape; our 16 conditions give lower levels, so each age band has a range. The most deprived quintile must have more multimorbidity than the least at the same ages.',
      rows: multi,
    });

    // Frailty.
    const frail: ProfileRow[] = [];
    FRAILTY_BY_AGE.forEach((t, f) => {
      let n = 0;
      for (let l = 0; l < 4; l++) n += this.frailty[f * 4 + l] as number;
      FRAILTY_LEVELS.forEach((level, l) => {
        const target = t[level];
        frail.push(row(`${t.label} ${level}`, n, n > 0 ? (this.frailty[f * 4 + l] as number) / n : 0, target, tolerance(target, n), target * n >= 10));
      });
    });
    sections.push({ title: 'Frailty (eFI category, living residents 65+)', note: 'Target: Clegg et al. 2016 by age band (prevalence.ts).', rows: frail });

    // Smoking.
    const smoking = smokingTargets(lsoas);
    sections.push({
      title: 'Smoking (living residents 18+)',
      note: 'Target: ONS Annual Population Survey 2023 by age, sex and deprivation over the area’s mix.',
      rows: [
        row('current smokers', this.adults18, this.currentSmokers / (this.adults18 || 1), smoking.current, tolerance(smoking.current, this.adults18)),
        row('ex-smokers', this.adults18, this.exSmokers / (this.adults18 || 1), smoking.ex, tolerance(smoking.ex, this.adults18)),
      ],
    });

    // Ethnicity.
    const ethnicTargets = expectedEthnicity(this.area);
    sections.push({
      title: 'Ethnicity (NHS data dictionary ethnic category, living residents)',
      note: 'Target: ONS Census 2021 for the district, county or England (prevalence.ts), younger for minority groups.',
      rows: ETHNIC_CODES.map((code) => {
        const target = ethnicTargets.get(code) ?? 0;
        return row(`${code} ${ETHNIC_CATEGORIES.find((e) => e.code === code)?.display ?? code}`, this.living, (this.ethnicity.get(code) ?? 0) / living, target, tolerance(target, this.living) + 0.003, target * this.living >= 10);
      }),
    });

    // Households.
    const households = this.householdLiving.size + this.livingAlone;
    let onePerson = this.livingAlone;
    for (const n of this.householdLiving.values()) if (n === 1) onePerson += 1;
    sections.push({
      title: 'Households (of living residents)',
      note: 'Target: ONS Families and households in the UK 2023.',
      rows: [
        row('one-person households', households, onePerson / (households || 1), HOUSEHOLD_TARGETS.onePerson.value, HOUSEHOLD_TARGETS.onePerson.tolerance + 3 * Math.sqrt((0.3 * 0.7) / (households || 1))),
        // Household sizes have a standard deviation of about 1.3 people.
        row('mean household size', households, this.living / (households || 1), HOUSEHOLD_TARGETS.meanSize.value, HOUSEHOLD_TARGETS.meanSize.tolerance + (3 * 1.3) / Math.sqrt(households || 1), true, 'number'),
      ],
    });

    // Deaths.
    const expectedRate = expectedDeathRate(this.area);
    const observedRate = this.died / (this.personYears || 1);
    const deathTolerance = 0.15 * expectedRate + 3 * Math.sqrt(expectedRate / (this.personYears || 1));
    sections.push({
      title: 'Deaths in the five-year window',
      note: 'Target: ONS national life tables 2020–22 over the area’s age and sex structure (crude deaths per person-year).',
      rows: [row('deaths per 1,000 person-years', Math.round(this.personYears), observedRate * 1000, expectedRate * 1000, deathTolerance * 1000, expectedRate * this.personYears >= 10, 'number')],
    });

    let passed = 0;
    let failed = 0;
    let notJudged = 0;
    for (const s of sections) {
      for (const r of s.rows) {
        if (!r.judged) notJudged += 1;
        else if (r.pass) passed += 1;
        else failed += 1;
      }
    }
    return { icb: this.area.icb.code, asOf: this.asOf, residents: this.residents, living: this.living, died: this.died, households, sections, passed, failed, notJudged };
  }
}

/** Expected ethnic mix of the area's living residents. */
function expectedEthnicity(area: Area): Map<string, number> {
  const out = new Map<string, number>();
  let total = 0;
  for (const l of area.lsoas) {
    for (const group of ['children', 'adults', 'older'] as const) {
      const { codes, weights } = ethnicityWeights(l.lad, l.council, group);
      const sum = weights.reduce((s, w) => s + w, 0);
      codes.forEach((code, i) => out.set(code, (out.get(code) ?? 0) + (l[group] * (weights[i] as number)) / sum));
      total += l[group];
    }
  }
  for (const [code, v] of out) out.set(code, v / total);
  return out;
}

/** Expected crude annual death rate of the area's living population (life tables). */
function expectedDeathRate(area: Area): number {
  const structure = expectedStructure(area.lsoas);
  let rate = 0;
  for (let s = 0; s < 2; s++) {
    for (let a = 0; a <= MAX_AGE; a++) {
      let w = 0;
      for (let q = 0; q < 5; q++) w += structure[(s * (MAX_AGE + 1) + a) * 5 + q] as number;
      rate += w * annualDeathProbability(s === 0 ? 'male' : 'female', a);
    }
  }
  return rate;
}

/** Profiles residents (any iterable, consumed once). */
export function profileResidents(residents: Iterable<Resident>, area: Area, asOf: string): PopulationProfile {
  const profiler = new PopulationProfiler(area, asOf);
  for (const r of residents) profiler.add(r);
  return profiler.result();
}

// ---------------------------------------------------------------------------------------------
// Text.

function percent(v: number): string {
  return `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
}

function show(v: number, unit: ProfileRow['unit']): string {
  return unit === 'share' ? percent(v) : v.toFixed(2);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function verdict(r: ProfileRow): string {
  return !r.judged ? '—' : r.pass ? 'PASS' : 'FAIL';
}

/** The profile as readable text tables. */
export function formatProfile(profile: PopulationProfile): string {
  const lines: string[] = [];
  lines.push(`Population profile of ${profile.icb} at ${profile.asOf}: ${profile.residents} residents, ${profile.living} living, ${profile.died} died in the window, ${profile.households} households`);
  lines.push(`Checks: ${profile.passed} PASS, ${profile.failed} FAIL, ${profile.notJudged} not judged (too few people)`);
  for (const section of profile.sections) {
    lines.push('', section.title, `  ${section.note}`);
    if (section.title.startsWith('Age pyramid')) {
      lines.push(`  ${pad('age', 7)} ${pad('male', 8, true)} ${pad('target', 8, true)}  ${pad('', 20)} | ${pad('', 20)} ${pad('female', 8, true)} ${pad('target', 8, true)}  result`);
      for (let i = 0; i < section.rows.length; i += 2) {
        const m = section.rows[i] as ProfileRow;
        const f = section.rows[i + 1] as ProfileRow;
        const bar = (v: number): string => '#'.repeat(Math.round(v * 400));
        lines.push(
          `  ${pad(pyramidLabel(i / 2), 7)} ${pad(percent(m.observed), 8, true)} ${pad(percent(m.target), 8, true)}  ${pad(bar(m.observed), 20, true)} | ${pad(bar(f.observed), 20)} ${pad(percent(f.observed), 8, true)} ${pad(percent(f.target), 8, true)}  ${verdict(m)}/${verdict(f)}`,
        );
      }
      continue;
    }
    if (section.title.startsWith('Prevalence by')) {
      // One line per condition, one column per group: observed (target) and a mark.
      const groups = [...new Set(section.rows.map((r) => r.label.slice(r.label.indexOf(' ') + 1)))];
      lines.push(`  ${pad('condition', 20)} ${groups.map((g) => pad(g, 15, true)).join('')}`);
      for (const c of CONDITIONS) {
        const cells = groups.map((g) => {
          const r = section.rows.find((x) => x.label === `${c.key} ${g}`);
          if (!r) return pad('', 15);
          const mark = !r.judged ? ' ' : r.pass ? ' ' : '!';
          return pad(`${(r.observed * 100).toFixed(1)}(${(r.target * 100).toFixed(1)})${mark}`, 15, true);
        });
        lines.push(`  ${pad(c.key, 20)} ${cells.join('')}`);
      }
      const failed = section.rows.filter((r) => r.judged && !r.pass);
      lines.push(`  observed % (target %); "!" marks a FAIL. ${section.rows.filter((r) => r.judged && r.pass).length} PASS, ${failed.length} FAIL, ${section.rows.filter((r) => !r.judged).length} not judged.`);
      for (const r of failed) lines.push(`  FAIL ${r.label}: ${percent(r.observed)} vs ${percent(r.target)} ± ${percent(r.tolerance)} (n=${r.n})`);
      continue;
    }
    lines.push(`  ${pad('', 44)} ${pad('n', 9, true)} ${pad('observed', 10, true)} ${pad('target', 10, true)} ${pad('tolerance', 16, true)}  result`);
    for (const r of section.rows) {
      const tol = r.range ? (r.range[1] === Infinity ? `> ${show(r.range[0], r.unit)} (±2 SE)` : `${show(r.range[0], r.unit)}–${show(r.range[1], r.unit)}`) : `± ${show(r.tolerance, r.unit)}`;
      lines.push(`  ${pad(r.label, 44)} ${pad(String(Math.round(r.n)), 9, true)} ${pad(show(r.observed, r.unit), 10, true)} ${pad(show(r.target, r.unit), 10, true)} ${pad(tol, 16, true)}  ${verdict(r)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// A generated output directory: the population, its activity and its waiting list.

/** What the profile command needs of `<out>/manifest.json` (written by writer.ts). */
interface OutputManifest {
  icb: string;
  people: number;
  seed: number;
  asOf: string;
  counts: { byHolder: Record<string, { kind: string }> };
}

export interface OutputProfile {
  population: PopulationProfile;
  /** Activity rates and the waiting list against activity.ts's targets. */
  activity: ProfileSection;
  /** Allergy labels on the GP record against prevalence.ts's ALLERGIES. */
  allergies: ProfileSection;
  /** Open RTT pathways at asOf by weeks waited. */
  waits: { label: string; count: number; share: number }[];
  /** Feed records whose patient no ground-truth link names (should be none). */
  unlinked: number;
  passed: number;
  failed: number;
  notJudged: number;
}

/** Week bands of the waiting-time table: 0–4 … 48–52, then 52–65, 65–78, 78–104, 104+. */
const WAIT_BANDS: [number, number][] = [
  ...Array.from({ length: 13 }, (_, i): [number, number] => [i * 4, i * 4 + 4]),
  [52, 65],
  [65, 78],
  [78, 104],
  [104, Infinity],
];

async function* lines(path: string): AsyncGenerator<string> {
  const reader = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of reader) if (line.length > 0) yield line;
}

/** Which label each GP allergy code is (amoxicillin allergy is a penicillin label). */
const ALLERGY_OF_CODE = new Map<string, AllergyKey>([
  [ALLERGY_CODES.penicillin.coding?.[0]?.code ?? '', 'penicillin'],
  [ALLERGY_CODES.amoxicillin.coding?.[0]?.code ?? '', 'penicillin'],
  [ALLERGY_CODES.salicylate.coding?.[0]?.code ?? '', 'salicylate'],
  [ALLERGY_CODES.peanut.coding?.[0]?.code ?? '', 'peanut'],
]);
const ALLERGY_LABELS: Readonly<Record<AllergyKey, string>> = {
  penicillin: 'penicillin or amoxicillin allergy label',
  salicylate: 'aspirin (salicylate) allergy label',
  peanut: 'peanut allergy label',
};

type ResidentLite = Pick<Resident, 'id' | 'birthDate' | 'deathDate' | 'practice' | 'council'>;

const SHARE_MEASURES = new Set<ActivityMeasure>(['waitingListPerPerson', 'within18WeeksShare', 'over52WeeksShare', 'adultSocialCareLongTerm', 'inHospitalDeathShare']);
const CLASS_CODE = /"class":\{[^}]*"code":"([A-Za-z]+)"/;

/**
 * Profiles `<out>` as `npm run generate` wrote it: the true residents (ground-truth/residents.ndjson)
 * for the population tables, and every holder's Encounter and EpisodeOfCare feed, tied to residents
 * by ground-truth/links.ndjson, for activity and waits (measured as activity-measure.ts defines them).
 * Streams every file; holds a few fields per resident and one entry per non-GP patient record.
 */
export async function profileOutput(out: string): Promise<OutputProfile> {
  const manifestPath = join(out, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${out} has no manifest.json: is it a directory written by npm run generate?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as OutputManifest;
  const area = loadArea(manifest.icb);
  const profiler = new PopulationProfiler(area, manifest.asOf);
  const measurer = new ActivityMeasurer(manifest.asOf);
  const byId = new Map<string, ResidentLite>();
  let adults = 0;
  for await (const line of lines(join(out, 'ground-truth', 'residents.ndjson'))) {
    const r = JSON.parse(line) as Resident;
    profiler.add(r);
    if (r.deathDate === undefined && ageOn(r.birthDate, manifest.asOf) >= 18) adults += 1;
    measurer.addResident(r);
    const lite: ResidentLite = { id: r.id, birthDate: r.birthDate, practice: r.practice, council: r.council };
    if (r.deathDate !== undefined) lite.deathDate = r.deathDate;
    byId.set(r.id, lite);
  }
  const kinds = manifest.counts.byHolder;
  // The allergy labels each practice holds, by its patient id: few people have one, so these are
  // gathered first and only their links kept.
  const labelsOf = new Map<string, AllergyKey[]>();
  for (const holder of Object.keys(kinds).sort()) {
    const path = join(out, 'feeds', holder, 'AllergyIntolerance.ndjson');
    if (kinds[holder]?.kind !== 'gp' || !existsSync(path)) continue;
    for await (const line of lines(path)) {
      const allergy = JSON.parse(line) as AllergyIntolerance;
      const key = ALLERGY_OF_CODE.get(allergy.code?.coding?.[0]?.code ?? '');
      const patient = allergy.patient.reference ?? '';
      if (key === undefined) continue;
      const at = `${holder}/${patient.slice(patient.indexOf('/') + 1)}`;
      labelsOf.set(at, [...(labelsOf.get(at) ?? []), key]);
    }
  }
  const labelled: Record<AllergyKey, number> = { penicillin: 0, salicylate: 0, peanut: 0 };
  // Which resident each non-GP holder's patient is (GP encounters need only their class).
  const patientOf = new Map<string, ResidentLite>();
  for await (const line of lines(join(out, 'ground-truth', 'links.ndjson'))) {
    const link = JSON.parse(line) as { resident: string; holder: string; patient: string };
    if (kinds[link.holder]?.kind === 'gp') {
      const labels = labelsOf.get(`${link.holder}/${link.patient}`);
      const resident = labels && byId.get(link.resident);
      if (labels && resident && resident.deathDate === undefined && ageOn(resident.birthDate, manifest.asOf) >= 18) for (const key of new Set(labels)) labelled[key] += 1;
      continue;
    }
    const resident = byId.get(link.resident);
    if (resident) patientOf.set(`${link.holder}/${link.patient}`, resident);
  }
  let unlinked = 0;
  for (const holder of Object.keys(kinds).sort()) {
    const kind = kinds[holder]?.kind;
    for (const type of ['Encounter', 'EpisodeOfCare'] as const) {
      const path = join(out, 'feeds', holder, `${type}.ndjson`);
      if (!existsSync(path)) continue;
      for await (const line of lines(path)) {
        if (kind === 'gp') {
          // A practice's encounters count by class alone; skip parsing the many consultations.
          if (type !== 'Encounter') continue;
          const code = CLASS_CODE.exec(line)?.[1];
          const gpResident: ResidentLite = { id: '', birthDate: '1900-01-01', practice: holder, council: '' };
          measurer.addRecords(gpResident, [{ holder, key: '', resource: { resourceType: 'Encounter', status: 'finished', class: { code: code ?? '' } } }]);
          continue;
        }
        const resource = JSON.parse(line) as Resource;
        const subject = resource.resourceType === 'Encounter' ? resource.subject?.reference : resource.resourceType === 'EpisodeOfCare' ? resource.patient.reference : undefined;
        const resident = subject === undefined ? undefined : patientOf.get(`${holder}/${subject.slice(subject.indexOf('/') + 1)}`);
        if (!resident) {
          unlinked += 1;
          continue;
        }
        const record: HeldRecord = { holder, key: '', resource };
        measurer.addRecords(resident, [record]);
      }
    }
  }

  const measured = measurer.result();
  const rows: ProfileRow[] = (Object.keys(ACTIVITY_TARGETS) as ActivityMeasure[]).map((key) => {
    const target = ACTIVITY_TARGETS[key];
    const unit = SHARE_MEASURES.has(key) ? 'share' : 'number';
    return row(`${key}: ${target.definition}`, 0, measured[key], target.value, target.tolerance, true, unit);
  });
  const activity: ProfileSection = { title: 'Activity and the waiting list (from the feeds)', note: 'Targets and definitions: activity.ts (ACTIVITY_TARGETS, with sources); measured as activity-measure.ts does, over person-years lived in the window.', rows };

  const weeks = measurer.waits.map((d) => d / 7);
  const waits = WAIT_BANDS.map(([from, to]) => {
    const count = weeks.filter((w) => w >= from && w < to).length;
    return { label: to === Infinity ? `${from}+ weeks` : `${from}–${to} weeks`, count, share: weeks.length > 0 ? count / weeks.length : 0 };
  });

  const expected = allergyTargets(area.lsoas);
  const allergyRows = (Object.keys(labelled) as AllergyKey[]).map((key) => {
    const target = expected[key];
    return row(`${ALLERGY_LABELS[key]} (living adults 18+)`, adults, adults > 0 ? labelled[key] / adults : 0, target, tolerance(target, adults), target * adults >= 10);
  });
  const allergies: ProfileSection = {
    title: 'Allergy labels on the GP record (from the practices\' feeds)',
    note: 'Targets and sources: prevalence.ts (ALLERGIES; penicillin from West et al. 2019, the others partly assumption).',
    rows: allergyRows,
  };

  const population = profiler.result();
  const judged = [...rows, ...allergyRows].filter((r) => r.judged);
  return {
    population,
    activity,
    allergies,
    waits,
    unlinked,
    passed: population.passed + judged.filter((r) => r.pass).length,
    failed: population.failed + judged.filter((r) => !r.pass).length,
    notJudged: population.notJudged + rows.length + allergyRows.length - judged.length,
  };
}

/** The whole output profile as text: the population tables, activity, and the waiting-time histogram. */
export function formatOutputProfile(profile: OutputProfile): string {
  const lines: string[] = [formatProfile(profile.population).trimEnd(), ''];
  for (const section of [profile.activity, profile.allergies]) {
    lines.push(section.title, `  ${section.note}`);
    lines.push(`  ${pad('', 70)} ${pad('observed', 10, true)} ${pad('target', 10, true)} ${pad('tolerance', 12, true)}  result`);
    for (const r of section.rows) {
      lines.push(`  ${pad(r.label.length > 70 ? `${r.label.slice(0, 67)}...` : r.label, 70)} ${pad(show(r.observed, r.unit), 10, true)} ${pad(show(r.target, r.unit), 10, true)} ${pad(`± ${show(r.tolerance, r.unit)}`, 12, true)}  ${verdict(r)}`);
    }
    lines.push('');
  }
  lines.pop();
  const total = profile.waits.reduce((s, w) => s + w.count, 0);
  lines.push('', `Waiting times of the ${total} open RTT pathways at asOf (weeks since clock start)`);
  for (const w of profile.waits) lines.push(`  ${pad(w.label, 14)} ${pad(String(w.count), 7, true)} ${pad(percent(w.share), 7, true)}  ${'#'.repeat(Math.round(w.share * 200))}`);
  if (profile.unlinked > 0) lines.push('', `${profile.unlinked} feed records name a patient that no ground-truth link holds`);
  lines.push('', `All checks: ${profile.passed} PASS, ${profile.failed} FAIL, ${profile.notJudged} not judged`);
  return `${lines.join('\n')}\n`;
}
