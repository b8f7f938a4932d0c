/**
 * `npm run bench:fhir`: the FHIR server at /fhir under load, as a whole ICS would use it.
 *
 * The server is the real `npm start` (node_modules/.bin/tsx src/main.ts) in a child process, on
 * a free port, with no demo; this process is the load generator and drives it over HTTP with
 * keep-alive connections. Both share the machine's cores with PostgreSQL, as they would in a
 * small deployment. Each scenario starts a fresh server on a fresh database:
 *
 *   crud    16 clients: 40% read, 20% create, 20% update, 20% search by NHS number (while
 *           search is not registered: 10% vread and 10% instance history instead).
 *           Target ≥ 1,500 requests/s.
 *   bundle  transaction Bundles of about 200 resources (whole patient records: Patient,
 *           Encounters, Conditions, Observations, MedicationRequests), every reference an
 *           urn:uuid, POSTed to /fhir. Target ≥ 3,000 resources/s.
 *   import  the same records as NDJSON through POST /fhir/$import. Target ≥ 15,000 resources/s.
 *   search  loads --patients records by the fastest path there is (import, else bundles, else
 *           one POST each) and reports the load rate, then runs six searches for random
 *           patients, each alone, first with 1 client (the latency of the query itself) and
 *           then with 16 (under load). Target p50 ≤ 5 ms and p99 ≤ 50 ms; $everything p50 ≤ 50 ms.
 *
 * The records are NHS-style and reproducible: NHS numbers in the 999 test range that pass the
 * Modulus 11 check, SNOMED CT codes, dm+d medicines, the demo ICS's GP practices.
 *
 * While each measurement runs, the CPU time of the server, of its PostgreSQL backends (server
 * engine) and of this process is read from /proc, and reported per request: on 2 cores, that is
 * where the time goes. --profile runs the server under `node --cpu-prof` and prints the
 * functions and packages it spent the measured seconds in.
 *
 *   npm run bench:fhir -- --scenario crud|bundle|import|search|all --engine server|embedded|both
 *                         [--patients 50000] [--duration 30] [--warmup 5] [--concurrency 16]
 *                         [--bundle-size 200] [--import-size 2000] [--encounters 5] [--profile] [--json file]
 *                         [--keep] [--reuse]
 *   npm run bench:fhir -- --write-ndjson FILE --patients N    (the records as NDJSON, nothing else)
 *
 * The server engine uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) only to
 * create and drop its own database, bench_fhir. The embedded engine gets a new temporary data
 * directory. --keep leaves the database (or directory) in place after a search run and --reuse
 * starts from it without loading again, to repeat the searches. Results: docs/benchmarks.md, "FHIR".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase } from '../src/core/db/database.js';
import { freePort, sleep } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const BENCH_DATABASE = 'bench_fhir';
const KEPT_DATA_DIR = path.join(os.tmpdir(), 'openics-bench-fhir-embedded');
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const SNOMED = 'http://snomed.info/sct';
const DMD = 'https://dmd.nhs.uk';
const UCUM = 'http://unitsofmeasure.org';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

type Engine = 'server' | 'embedded';
type Scenario = 'crud' | 'bundle' | 'import' | 'search';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function wholeNumber(name: string, fallback: number): number {
  const value = Number(argument(name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1`);
  return value;
}

const options = {
  scenario: argument('scenario', 'all'),
  engine: argument('engine', 'both'),
  patients: wholeNumber('patients', 50_000),
  durationMs: wholeNumber('duration', 30) * 1000,
  warmupMs: wholeNumber('warmup', 5) * 1000,
  concurrency: process.argv.includes('--concurrency') ? wholeNumber('concurrency', 16) : undefined,
  bundleSize: wholeNumber('bundle-size', 200),
  importSize: wholeNumber('import-size', 2000),
  encounters: wholeNumber('encounters', 5),
  profile: flag('profile'),
  keep: flag('keep'),
  reuse: flag('reuse'),
  json: argument('json', ''),
  adminUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
};

// ---------------------------------------------------------------------------------------------
// NHS-style records, reproducible from the patient's number alone.

/** A small fast PRNG (mulberry32), so patient n is the same record in every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The check digit of a 9-digit NHS number stem (Modulus 11), or undefined when none exists. */
export function nhsCheckDigit(stem: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(stem[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? undefined : check;
}

/**
 * The n-th patient's NHS number, in the 999 000 0000 test range (never issued to a real person):
 * stem 999000000 + 2n or, when that has no check digit, 2n + 1. The two stems differ only in
 * their last digit, whose weight is 2, so at most one of them lacks a check digit. n < 500,000.
 */
function nhsNumber(n: number): string {
  for (const stem of [999_000_000 + 2 * n, 999_000_000 + 2 * n + 1]) {
    const check = nhsCheckDigit(String(stem));
    if (check !== undefined) return `${stem}${check}`;
  }
  throw new Error(`no NHS number for patient ${n}`);
}

/** A UUID-shaped id derived from a name, so references can be written before the server sees anything. */
function stableId(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const FAMILIES = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White',
  'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Khan', 'Lewis', 'Harris', 'Clark', 'Turner', 'Hill', 'Scott', 'Cooper', 'Morris', 'Ward',
  'Moore', 'King', 'Watson', 'Baker', 'Harrison', 'Morgan', 'Young', 'Allen', 'Mitchell', 'Anderson', 'Lee', 'Bell', 'Martin', 'James', 'Phillips',
  'Parker', 'Bennett', 'Adams', 'Price', 'Griffiths', 'Cook', 'Shaw', 'Richardson', 'Hughes', 'Edwards', 'Lloyd', 'Marshall', 'Powell', 'Kelly',
  'Collins', 'Dixon', 'Chapman', 'Ellis', 'Webb', 'Mason', 'Hunt', 'Palmer', 'Mills', 'Holmes', 'Rogers', 'Barnes', 'Knight', 'Matthews', 'Lloyd-Jones',
  'Begum', 'Ali', 'Hussain', 'Singh', 'Kaur', 'Ahmed', 'Murphy', 'Kennedy', 'Reid', 'Owen', 'Fletcher', 'Stevens', 'Fisher', 'Bailey', 'Pearce', 'Gray',
  'Hayes', 'Gibson', 'Burton', 'Sutton', 'Carter', 'Dawson', 'Russell', 'Ford', 'Hamilton', 'Hart', 'Pearson', 'Saunders', 'Cox', 'Lane', 'Nowak',
  'Kowalski', 'Okafor', 'Mensah', 'Nguyen', 'Chen', "O'Brien", 'Doyle', 'Quinn', 'Walsh', 'Atkinson', 'Spencer', 'Gardner', 'Bradley', 'Payne',
];
const GIVEN = {
  female: ['Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Grace', 'Sophie', 'Emily', 'Margaret', 'Susan', 'Patricia', 'Jean', 'Sarah', 'Fatima', 'Aisha', 'Priya', 'Hannah', 'Chloe', 'Ruby', 'Joan'],
  male: ['Oliver', 'George', 'Harry', 'Noah', 'Jack', 'Leo', 'Arthur', 'James', 'David', 'John', 'Michael', 'Peter', 'Robert', 'Mohammed', 'Ravi', 'Thomas', 'William', 'Daniel', 'Kevin', 'Alan'],
};
const STREETS = ['High Street', 'Church Road', 'Station Road', 'Bath Road', 'London Road', 'Malvern Road', 'Bromyard Road', 'Tything', 'Barbourne Road', 'Ledbury Road', 'Aylestone Hill', 'Sidbury'];
const TOWNS: Array<[town: string, district: string, postcode: string]> = [
  ['Worcester', 'Worcestershire', 'WR1'], ['Worcester', 'Worcestershire', 'WR5'], ['Malvern', 'Worcestershire', 'WR14'], ['Evesham', 'Worcestershire', 'WR11'],
  ['Redditch', 'Worcestershire', 'B97'], ['Kidderminster', 'Worcestershire', 'DY10'], ['Hereford', 'Herefordshire', 'HR1'], ['Hereford', 'Herefordshire', 'HR4'],
  ['Leominster', 'Herefordshire', 'HR6'], ['Ledbury', 'Herefordshire', 'HR8'], ['Ross-on-Wye', 'Herefordshire', 'HR9'], ['Bromsgrove', 'Worcestershire', 'B60'],
];
/** GP practices of NHS Herefordshire and Worcestershire ICB (as in NHS England's practice file). */
const PRACTICES = ['M81001', 'M81002', 'M81003', 'M81004', 'M81005', 'M81006', 'M81007', 'M81008'];

interface Code { code: string; display: string }
const CONDITIONS: Array<Code & { prevalence: number; medicines: Code[] }> = [
  { code: '38341003', display: 'Hypertensive disorder', prevalence: 0.28, medicines: [{ code: '319773006', display: 'Amlodipine 5mg tablets' }] },
  { code: '44054006', display: 'Diabetes mellitus type 2', prevalence: 0.12, medicines: [{ code: '325278007', display: 'Metformin 500mg tablets' }] },
  { code: '195967001', display: 'Asthma', prevalence: 0.09, medicines: [] },
  { code: '13645005', display: 'Chronic obstructive lung disease', prevalence: 0.04, medicines: [] },
  { code: '49436004', display: 'Atrial fibrillation', prevalence: 0.05, medicines: [{ code: '329526003', display: 'Aspirin 300mg dispersible tablets' }] },
  { code: '84114007', display: 'Heart failure', prevalence: 0.03, medicines: [{ code: '317972000', display: 'Furosemide 40mg tablets' }] },
  { code: '709044004', display: 'Chronic kidney disease', prevalence: 0.06, medicines: [] },
  { code: '35489007', display: 'Depressive disorder', prevalence: 0.12, medicines: [] },
];
const ENCOUNTER_TYPES: Array<Code & { class: string }> = [
  { code: '11429006', display: 'Consultation', class: 'AMB' },
  { code: '185317003', display: 'Telephone encounter', class: 'VR' },
  { code: '390906007', display: 'Follow-up encounter', class: 'AMB' },
  { code: '4525004', display: 'Emergency department patient visit', class: 'EMER' },
];
const BLOOD_PRESSURE = { code: '75367002', display: 'Blood pressure' };
const DAY = 86_400_000;
const FIRST_ENCOUNTER = Date.UTC(2019, 0, 1);
const LAST_ENCOUNTER = Date.UTC(2025, 11, 31);

type Json = Record<string, unknown>;

/** One patient's record: the Patient first, then everything that refers to it. */
export interface PatientRecord {
  n: number;
  nhsNumber: string;
  family: string;
  birthDate: string;
  resources: Json[];
}

const coding = (system: string, c: Code): Json => ({ coding: [{ system, code: c.code, display: c.display }], text: c.display });
const quantity = (value: number, unit: string): Json => ({ value, unit, system: UCUM, code: unit });
const category = (system: string, code: string): Json[] => [{ coding: [{ system, code }] }];

/**
 * Patient n's record. `ref(kind, k)` names resource k of a kind ('Patient', 'Encounter', ...) as
 * it should appear in a reference and in the resource: an urn:uuid for a transaction, or a
 * stable id for NDJSON. Resources are returned without ids; `idOf` gives the id, if any, to set.
 */
export function patientRecord(n: number, encountersMean: number, idOf: (kind: string, k: number) => string | undefined, ref: (kind: string, k: number) => string): PatientRecord {
  const rnd = random(n * 7919 + 17);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const female = rnd() < 0.51;
  const family = pick(FAMILIES);
  const born = Date.UTC(1935, 0, 1) + Math.floor(rnd() * 85 * 365.25) * DAY;
  const birthDate = new Date(born).toISOString().slice(0, 10);
  const [town, district, outward] = pick(TOWNS);
  const practice = pick(PRACTICES);
  const number = nhsNumber(n);
  const withId = (kind: string, k: number, resource: Json): Json => {
    const id = idOf(kind, k);
    return id === undefined ? resource : { resourceType: resource.resourceType, id, ...resource };
  };
  const subject = { reference: ref('Patient', 0) };
  const resources: Json[] = [
    withId('Patient', 0, {
      resourceType: 'Patient',
      meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
      identifier: [{ system: NHS_NUMBER, value: number }],
      name: [{ use: 'official', family, given: [pick(female ? GIVEN.female : GIVEN.male)], prefix: [female ? pick(['Mrs', 'Ms', 'Miss']) : 'Mr'] }],
      telecom: [{ system: 'phone', value: `07700 900${String(n % 1000).padStart(3, '0')}`, use: 'mobile' }],
      gender: female ? 'female' : 'male',
      birthDate,
      address: [{ use: 'home', line: [`${1 + Math.floor(rnd() * 180)} ${pick(STREETS)}`], city: town, district, postalCode: `${outward} ${1 + Math.floor(rnd() * 9)}${pick(['AB', 'DX', 'HL', 'NQ', 'PT', 'SU'])}` }],
      generalPractitioner: [{ type: 'Organization', identifier: { system: ODS, value: practice } }],
    }),
  ];
  const conditions = CONDITIONS.filter((c) => rnd() < c.prevalence * (born < Date.UTC(1965, 0, 1) ? 1.8 : 0.7));
  const diabetic = conditions.some((c) => c.code === '44054006');
  const encounterCount = Math.max(1, Math.round(encountersMean * (0.4 + rnd() * 1.2)));
  const starts = Array.from({ length: encounterCount }, () => FIRST_ENCOUNTER + Math.floor(rnd() * ((LAST_ENCOUNTER - FIRST_ENCOUNTER) / 60_000)) * 60_000).sort((a, b) => a - b);
  let observation = 0;
  const weight = 55 + rnd() * 50;
  const height = 150 + rnd() * 40;
  starts.forEach((start, e) => {
    const type = rnd() < 0.08 ? (ENCOUNTER_TYPES[3] as (typeof ENCOUNTER_TYPES)[number]) : pick(ENCOUNTER_TYPES.slice(0, 3));
    const startText = new Date(start).toISOString();
    const encounter = { reference: ref('Encounter', e) };
    resources.push(
      withId('Encounter', e, {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type.class },
        type: [coding(SNOMED, type)],
        subject,
        period: { start: startText, end: new Date(start + (type.class === 'EMER' ? 4 * 3_600_000 : 15 * 60_000)).toISOString() },
        serviceProvider: { identifier: { system: ODS, value: practice } },
      }),
    );
    const observe = (resource: Json): void => {
      resources.push(withId('Observation', observation, { resourceType: 'Observation', status: 'final', ...resource, subject, encounter, effectiveDateTime: startText }));
      observation++;
    };
    const systolic = Math.round(110 + rnd() * 50);
    observe({
      category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'),
      code: coding(SNOMED, BLOOD_PRESSURE),
      component: [
        { code: coding(SNOMED, { code: '271649006', display: 'Systolic blood pressure' }), valueQuantity: quantity(systolic, 'mm[Hg]') },
        { code: coding(SNOMED, { code: '271650006', display: 'Diastolic blood pressure' }), valueQuantity: quantity(Math.round(systolic * (0.55 + rnd() * 0.15)), 'mm[Hg]') },
      ],
    });
    if (rnd() < 0.5) {
      const kg = Math.round((weight + (rnd() - 0.5) * 6) * 10) / 10;
      observe({ category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'), code: coding(SNOMED, { code: '27113001', display: 'Body weight' }), valueQuantity: quantity(kg, 'kg') });
      observe({ category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'), code: coding(SNOMED, { code: '60621009', display: 'Body mass index' }), valueQuantity: quantity(Math.round((kg / (height / 100) ** 2) * 10) / 10, 'kg/m2') });
    }
    if (rnd() < 0.4) observe({ category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'), code: coding(SNOMED, { code: '364075005', display: 'Heart rate' }), valueQuantity: quantity(Math.round(55 + rnd() * 45), '/min') });
    if (diabetic ? rnd() < 0.6 : rnd() < 0.1) {
      observe({
        category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory'),
        code: coding(SNOMED, { code: '999791000000106', display: 'Haemoglobin A1c level - International Federation of Clinical Chemistry and Laboratory Medicine standardised' }),
        valueQuantity: quantity(Math.round(diabetic ? 48 + rnd() * 40 : 30 + rnd() * 10), 'mmol/mol'),
      });
    }
  });
  let medicine = 0;
  conditions.forEach((condition, c) => {
    const onset = new Date(starts[Math.floor(rnd() * starts.length)] ?? FIRST_ENCOUNTER).toISOString();
    resources.push(
      withId('Condition', c, {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: category('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item'),
        code: coding(SNOMED, condition),
        subject,
        onsetDateTime: onset,
        recordedDate: onset,
      }),
    );
    for (const drug of condition.medicines) {
      resources.push(
        withId('MedicationRequest', medicine, {
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          courseOfTherapyType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] },
          medicationCodeableConcept: coding(DMD, drug),
          subject,
          authoredOn: onset,
          reasonCode: [coding(SNOMED, condition)],
          dosageInstruction: [{ text: 'One tablet once a day' }],
        }),
      );
      medicine++;
    }
  });
  return { n, nhsNumber: number, family, birthDate, resources };
}

/** Stable ids for every resource of patient n (NDJSON, PUT). */
const stableIds = (n: number) => ({
  idOf: (kind: string, k: number): string => stableId(`${n}/${kind}/${k}`),
  ref: (kind: string, k: number): string => `${kind}/${stableId(`${n}/${kind}/${k}`)}`,
});

/** Patient n's record as transaction entries: every resource POSTed under an urn:uuid, and referred to by it. */
function transactionEntries(n: number): Json[] {
  const urns = new Map<string, string>();
  const ref = (kind: string, k: number): string => {
    const key = `${kind}/${k}`;
    let urn = urns.get(key);
    if (urn === undefined) urns.set(key, (urn = `urn:uuid:${randomUUID()}`));
    return urn;
  };
  // Resources of a kind come out numbered in order (Encounter 0, 1, ...), as ref numbered them.
  const counters = new Map<string, number>();
  return patientRecord(n, options.encounters, () => undefined, ref).resources.map((resource) => {
    const kind = resource.resourceType as string;
    const k = counters.get(kind) ?? 0;
    counters.set(kind, k + 1);
    return { fullUrl: ref(kind, k), resource, request: { method: 'POST', url: kind } };
  });
}

/** A transaction Bundle of whole patient records from patient `first` on: at least `size` resources, or up to patient `limit`. */
function transactionBundle(first: number, size: number, limit = Number.POSITIVE_INFINITY): { body: string; resources: number; patients: number } {
  const entry: Json[] = [];
  let n = first;
  while (entry.length < size && n < limit) entry.push(...transactionEntries(n++));
  return { body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }), resources: entry.length, patients: n - first };
}

/** NDJSON of whole patient records with stable ids from patient `first` on: at least `size` resources, or up to patient `limit`. */
function ndjson(first: number, size: number, limit = Number.POSITIVE_INFINITY): { body: string; resources: number; patients: number } {
  const lines: string[] = [];
  let n = first;
  while (lines.length < size && n < limit) {
    const { idOf, ref } = stableIds(n);
    for (const resource of patientRecord(n, options.encounters, idOf, ref).resources) lines.push(JSON.stringify(resource));
    n++;
  }
  return { body: `${lines.join('\n')}\n`, resources: lines.length, patients: n - first };
}

// ---------------------------------------------------------------------------------------------
// The server under test.


interface Server {
  engine: Engine;
  port: number;
  child: ChildProcess;
  logFile: string;
  profileDir: string | undefined;
  /** Connection to the bench database (server engine), for the backends' pids. */
  admin: pg.Client | undefined;
  postgresCpu: PostgresCpuMeter | undefined;
  /** The embedded engine's data directory. */
  dataDir: string | undefined;
  /** Stops the server; the database is dropped (or the directory deleted) unless --keep or keepData. */
  stop(keepData?: boolean): Promise<void>;
}

function serverUrlFor(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<pg.QueryResult<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: options.adminUrl });
  await client.connect();
  try {
    return await client.query<Record<string, unknown>>(sql);
  } finally {
    await client.end();
  }
}

/** Prepares an empty database (or reuses the kept one, or `dataDir`) and starts `npm start` on it. */
async function startServer(engine: Engine, reuse: boolean, existingDataDir?: string): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENICS_DEMO: 'false', HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  delete env.DATABASE_URL;
  delete env.OPENICS_DATA_DIR;
  let dataDir: string | undefined;
  if (engine === 'server') {
    if (!reuse) {
      await adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
      await adminQuery(`CREATE DATABASE ${BENCH_DATABASE}`);
    }
    env.DATABASE_URL = serverUrlFor(options.adminUrl);
  } else {
    dataDir = existingDataDir ?? (options.keep || reuse ? KEPT_DATA_DIR : fs.mkdtempSync(path.join(os.tmpdir(), 'openics-bench-fhir-')));
    if (!reuse && existingDataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
    env.OPENICS_DATA_DIR = dataDir;
  }
  const port = await freePort();
  env.PORT = String(port);
  const logFile = path.join(os.tmpdir(), `openics-bench-fhir-${engine}-${process.pid}.log`);
  const log = fs.openSync(logFile, 'w');
  const profileDir = options.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'openics-bench-fhir-profile-')) : undefined;
  const child = profileDir
    ? spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profileDir, '--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log] })
    : spawn(TSX, ['src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}; see ${logFile}`);
    if (Date.now() - started > 180_000) throw new Error(`the server was not ready after 180 s; see ${logFile}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  let admin: pg.Client | undefined;
  let postgresCpu: PostgresCpuMeter | undefined;
  if (engine === 'server') {
    admin = new pg.Client({ connectionString: serverUrlFor(options.adminUrl) });
    await admin.connect();
    postgresCpu = new PostgresCpuMeter(admin);
  }
  return {
    engine,
    port,
    child,
    logFile,
    profileDir,
    admin,
    postgresCpu,
    dataDir,
    async stop(keepData = false) {
      postgresCpu?.stop();
      await admin?.end();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        await exited;
        clearTimeout(timer);
      }
      if (engine === 'server' && !options.keep && !keepData) await adminQuery(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
      if (dataDir && !options.keep && !keepData) fs.rmSync(dataDir, { recursive: true, force: true });
      // The server's log is kept when it did not stop cleanly (it crashed, or was killed), to say why.
      if (!options.keep && child.exitCode === 0) fs.rmSync(logFile, { force: true });
      else process.stderr.write(`server log kept in ${logFile} (exit ${child.exitCode ?? child.signalCode ?? '?'})\n`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU time, from /proc (Linux), so a result can say which process the seconds went to.

function ticksOf(statPath: string): number {
  const stat = fs.readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in USER_HZ (100 a second)
}

/** CPU ms of a process and its descendants; the main thread apart from the others (GC, libuv, the embedded engine's worker). */
function processCpu(pid: number): { total: number; mainThread: number } {
  try {
    let total = ticksOf(`/proc/${pid}/stat`) * 10;
    const mainThread = ticksOf(`/proc/${pid}/task/${pid}/stat`) * 10;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' ')) total += processCpu(Number(child)).total;
    }
    return { total, mainThread };
  } catch {
    return { total: 0, mainThread: 0 };
  }
}

/** The node process serving HTTP (tsx starts node as a child of its own node). */
function serverNodePid(child: ChildProcess): number {
  let pid = child.pid ?? 0;
  for (;;) {
    try {
      const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
      if (children.length !== 1) return pid;
      pid = Number(children[0]);
    } catch {
      return pid;
    }
  }
}

interface CpuSample { at: number; server: number; serverMain: number; postgres: number; bench: number }

/**
 * CPU ms used by the bench database's PostgreSQL backends since the meter started. The pool
 * closes idle connections and opens new ones, so backends are polled every 200 ms and each
 * one's growth is added up; a backend that appeared since the last poll counts from zero.
 */
class PostgresCpuMeter {
  private readonly seen = new Map<number, number>();
  private total = 0;
  private first = true;
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly client: pg.Client) {
    this.timer = setInterval(() => void this.poll(), 200);
  }

  async used(): Promise<number> {
    await this.poll();
    return this.total;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      const { rows } = await this.client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [BENCH_DATABASE]).catch(() => ({ rows: [] as Array<{ pid: number }> }));
      const now = new Map<number, number>();
      for (const { pid } of rows) {
        try {
          now.set(pid, ticksOf(`/proc/${pid}/stat`) * 10);
        } catch {
          // the backend ended between the query and the read
        }
      }
      for (const [pid, cpu] of now) {
        const before = this.seen.get(pid);
        if (before !== undefined) this.total += cpu - before;
        else if (!this.first) this.total += cpu;
      }
      this.seen.clear();
      for (const [pid, cpu] of now) this.seen.set(pid, cpu);
      this.first = false;
    });
    return this.polling;
  }
}

async function cpuSample(server: Server): Promise<CpuSample> {
  const node = processCpu(serverNodePid(server.child));
  const postgres = server.postgresCpu ? await server.postgresCpu.used() : 0;
  const self = process.cpuUsage();
  return { at: performance.now(), server: processCpu(server.child.pid ?? 0).total, serverMain: node.mainThread, postgres, bench: (self.user + self.system) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// HTTP with keep-alive, and closed-loop load with latency percentiles.

let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

function call(port: number, method: string, urlPath: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: { accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) } : {}), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/** What one operation did: its kind (for the per-kind rows), and how many resources it carried. */
interface Done { kind: string; ok: boolean; units?: number; detail?: string; entries?: number }

interface KindStats { kind: string; requests: number; errors: number; perSecond: number; p50: number; p90: number; p99: number; max: number; meanEntries?: number }

interface LoadResult {
  name: string;
  concurrency: number;
  seconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  units: number;
  unitsPerSecond: number;
  latency: KindStats[];
  /** CPU ms per request: the server's node process (and threads), PostgreSQL backends, this load generator. */
  cpuPerRequest: { server: number; serverMainThread: number; postgres: number; loadGenerator: number };
  /**
   * Requests a second this CPU cost per request would allow on an idle machine: all cores
   * shared by the three, and never more than the server's main thread alone can do.
   */
  idleCeiling: number;
  /** Cores busy on average during the measurement, of os.availableParallelism(). */
  coresBusy: { server: number; postgres: number; loadGenerator: number };
  firstErrors: string[];
  window: [number, number];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

/**
 * Runs `operation` from `concurrency` clients in a closed loop: a warm-up that is not counted,
 * then `durationMs` measured. With no duration (a load), it runs until every client has been
 * told there is no more work (`operation` returns undefined), all of it measured.
 */
async function runLoad(
  server: Server,
  name: string,
  concurrency: number,
  operation: (client: number) => Promise<Done | undefined>,
  { warmupMs, durationMs }: { warmupMs: number; durationMs: number | undefined },
): Promise<LoadResult> {
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(64, concurrency) });
  const latencies = new Map<string, number[]>();
  const entries = new Map<string, number[]>();
  const errors = new Map<string, number>();
  const firstErrors: string[] = [];
  let units = 0;
  let measuring = false;
  let stopAt = Number.POSITIVE_INFINITY;

  const client = async (c: number): Promise<void> => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      let done: Done | undefined;
      try {
        done = await operation(c);
      } catch (error) {
        done = { kind: 'error', ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
      if (done === undefined) return;
      const finished = performance.now();
      const elapsed = finished - t0;
      // A request counts if it ended inside the measured window: a large import may have begun in the warm-up.
      if (!measuring || finished > stopAt) continue;
      if (!done.ok) {
        errors.set(done.kind, (errors.get(done.kind) ?? 0) + 1);
        if (firstErrors.length < 5) firstErrors.push(`${done.kind}: ${done.detail ?? ''}`.slice(0, 300));
        continue;
      }
      units += done.units ?? 1;
      let list = latencies.get(done.kind);
      if (!list) latencies.set(done.kind, (list = []));
      list.push(elapsed);
      if (done.entries !== undefined) {
        let e = entries.get(done.kind);
        if (!e) entries.set(done.kind, (e = []));
        e.push(done.entries);
      }
    }
  };

  let before: CpuSample;
  let clients: Array<Promise<void>>;
  if (durationMs === undefined || warmupMs === 0) {
    before = await cpuSample(server);
    measuring = true;
    clients = Array.from({ length: concurrency }, (_, c) => client(c));
  } else {
    clients = Array.from({ length: concurrency }, (_, c) => client(c));
    await sleep(warmupMs);
    before = await cpuSample(server);
    measuring = true;
  }
  const measureFrom = before.at;
  let after: CpuSample;
  if (durationMs === undefined) {
    await Promise.all(clients);
    after = await cpuSample(server);
  } else {
    await sleep(durationMs);
    stopAt = performance.now();
    after = await cpuSample(server);
    await Promise.all(clients);
  }
  const end = durationMs === undefined ? after.at : stopAt;
  const seconds = (end - measureFrom) / 1000;
  const start = before;
  const cpuEnd = after;

  const kinds: KindStats[] = [];
  const all: number[] = [];
  for (const [kind, list] of [...latencies.entries()].sort()) {
    all.push(...list);
    const sorted = Float64Array.from(list).sort();
    const e = entries.get(kind);
    kinds.push({
      kind,
      requests: list.length,
      errors: errors.get(kind) ?? 0,
      perSecond: list.length / seconds,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? 0,
      ...(e ? { meanEntries: e.reduce((a, b) => a + b, 0) / e.length } : {}),
    });
  }
  const allSorted = Float64Array.from(all).sort();
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  if (kinds.length > 1) {
    kinds.push({ kind: 'all', requests: all.length, errors: errorCount, perSecond: all.length / seconds, p50: percentile(allSorted, 0.5), p90: percentile(allSorted, 0.9), p99: percentile(allSorted, 0.99), max: allSorted[allSorted.length - 1] ?? 0 });
  }
  const requests = all.length;
  const per = (x: number): number => (requests === 0 ? 0 : x / requests);
  const wall = (cpuEnd.at - start.at) || 1;
  return {
    name,
    concurrency,
    seconds,
    requests,
    errors: errorCount,
    requestsPerSecond: requests / seconds,
    units,
    unitsPerSecond: units / seconds,
    latency: kinds,
    cpuPerRequest: {
      server: per(cpuEnd.server - start.server),
      serverMainThread: per(cpuEnd.serverMain - start.serverMain),
      postgres: per(cpuEnd.postgres - start.postgres),
      loadGenerator: per(cpuEnd.bench - start.bench),
    },
    idleCeiling: Math.min(
      (os.availableParallelism() * 1000) / Math.max(1e-9, per(cpuEnd.server - start.server) + per(cpuEnd.postgres - start.postgres) + per(cpuEnd.bench - start.bench)),
      1000 / Math.max(1e-9, per(cpuEnd.serverMain - start.serverMain)),
      // The embedded engine is one more single thread: PGlite in its worker (with GC and libuv threads here).
      server.engine === 'embedded' ? 1000 / Math.max(1e-9, per(cpuEnd.server - start.server - (cpuEnd.serverMain - start.serverMain))) : Number.POSITIVE_INFINITY,
    ),
    coresBusy: { server: (cpuEnd.server - start.server) / wall, postgres: (cpuEnd.postgres - start.postgres) / wall, loadGenerator: (cpuEnd.bench - start.bench) / wall },
    firstErrors,
    window: [Math.round((performance.timeOrigin + measureFrom) * 1000), Math.round((performance.timeOrigin + end) * 1000)],
  };
}

function answered(reply: Reply, kind: string, statuses: number[], units?: number): Done {
  if (statuses.includes(reply.status)) return { kind, ok: true, ...(units !== undefined ? { units } : {}) };
  return { kind, ok: false, detail: `${reply.status} ${reply.body.slice(0, 240)}` };
}

const fhirPath = (p: string): string => `/fhir/${p}`;

/** Patient numbers of each scenario's records, apart so NHS numbers never repeat (nhsNumber takes n < 500,000). */
const FIRST_PATIENT = { search: 0, bundle: 150_000, import: 300_000, crud: 450_000 } as const;

/** What the running server offers, found by asking it (other parts of /fhir are still being written). */
interface Capabilities { search: boolean; transaction: boolean; import: boolean; everything: boolean }

/** The answer of a server that has no such interaction (the not-found handler, or `$x` taken for a type). */
const unsupported = (reply: Reply): boolean =>
  (reply.status === 404 || reply.status === 405) && /is not a FHIR interaction this server supports|is not a FHIR R4 resource type/.test(reply.body);

async function capabilities(port: number): Promise<Capabilities> {
  const search = await call(port, 'GET', fhirPath(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER}|${nhsNumber(0)}`)}`));
  const transaction = await call(port, 'POST', '/fhir', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
  const bulk = await call(port, 'POST', fhirPath('$import'), '\n', { 'content-type': 'application/fhir+ndjson' });
  const everything = await call(port, 'GET', fhirPath(`Patient/${stableId('probe')}/$everything`));
  return { search: search.status === 200, transaction: !unsupported(transaction), import: !unsupported(bulk), everything: !unsupported(everything) };
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

interface ScenarioResult {
  scenario: Scenario;
  engine: Engine;
  capabilities: Capabilities;
  loads: LoadResult[];
  notes: string[];
  targets: Array<{ what: string; target: string; measured: string; met: boolean | null }>;
  profile?: ProfileSummary;
}

const idOfBody = (reply: Reply): string => (JSON.parse(reply.body) as { id: string }).id;

function bloodPressure(patientId: string, systolic: number, when: string): Json {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: category('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'),
    code: coding(SNOMED, BLOOD_PRESSURE),
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: when,
    component: [
      { code: coding(SNOMED, { code: '271649006', display: 'Systolic blood pressure' }), valueQuantity: quantity(systolic, 'mm[Hg]') },
      { code: coding(SNOMED, { code: '271650006', display: 'Diastolic blood pressure' }), valueQuantity: quantity(Math.round(systolic * 0.62), 'mm[Hg]') },
    ],
  };
}

async function crud(server: Server, caps: Capabilities): Promise<ScenarioResult> {
  const port = server.port;
  const concurrency = options.concurrency ?? 16;
  const patients: Array<{ id: string; body: Json; nhsNumber: string }> = [];
  const observations: string[] = [];
  // Seed over HTTP: 1,000 Patients, each with three blood pressures.
  let next = 0;
  const seed = await runLoad(server, 'seed: POST 1,000 Patients and 3,000 Observations', concurrency, async () => {
    if (next >= 1000) return undefined;
    const record = patientRecord(FIRST_PATIENT.crud + next++, 1, () => undefined, () => 'Patient/unknown');
    const patient = record.resources[0] as Json;
    const created = await call(port, 'POST', fhirPath('Patient'), JSON.stringify(patient));
    if (created.status !== 201) return answered(created, 'seed', [201]);
    const id = idOfBody(created);
    patients.push({ id, body: { ...patient, id }, nhsNumber: record.nhsNumber });
    for (let k = 0; k < 3; k++) {
      const reply = await call(port, 'POST', fhirPath('Observation'), JSON.stringify(bloodPressure(id, 120 + k, `202${k}-03-0${k + 1}T09:30:00Z`)));
      if (reply.status !== 201) return answered(reply, 'seed', [201]);
      observations.push(idOfBody(reply));
    }
    return { kind: 'seed', ok: true, units: 4 };
  }, { warmupMs: 0, durationMs: undefined });

  const rnd = random(42);
  const any = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  let counter = 0;
  const operation = async (): Promise<Done> => {
    const roll = rnd();
    const p = any(patients);
    if (roll < 0.2) return answered(await call(port, 'GET', fhirPath(`Patient/${p.id}`)), 'read Patient', [200]);
    if (roll < 0.4) return answered(await call(port, 'GET', fhirPath(`Observation/${any(observations)}`)), 'read Observation', [200]);
    if (roll < 0.6) {
      const reply = await call(port, 'POST', fhirPath('Observation'), JSON.stringify(bloodPressure(p.id, 110 + (counter++ % 50), new Date().toISOString())));
      if (reply.status === 201) observations.push(idOfBody(reply));
      return answered(reply, 'create Observation', [201]);
    }
    if (roll < 0.8) {
      // A new mobile number each time, so every update makes a new version.
      const body = { ...p.body, telecom: [{ system: 'phone', value: `07700 900${String(counter++ % 1000).padStart(3, '0')}`, use: 'mobile' }] };
      return answered(await call(port, 'PUT', fhirPath(`Patient/${p.id}`), JSON.stringify(body)), 'update Patient', [200]);
    }
    if (caps.search) return answered(await call(port, 'GET', fhirPath(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER}|${p.nhsNumber}`)}`)), 'search Patient by NHS number', [200]);
    if (roll < 0.9) return answered(await call(port, 'GET', fhirPath(`Patient/${p.id}/_history/1`)), 'vread Patient', [200]);
    return answered(await call(port, 'GET', fhirPath(`Patient/${p.id}/_history`)), 'history of a Patient', [200]);
  };
  const mix = await runLoad(server, 'CRUD mix', concurrency, operation, { warmupMs: options.warmupMs, durationMs: options.durationMs });
  return {
    scenario: 'crud',
    engine: server.engine,
    capabilities: caps,
    loads: [seed, mix],
    notes: [
      caps.search
        ? 'Mix: 20% read Patient, 20% read Observation, 20% create Observation (blood pressure), 20% update Patient (new mobile number), 20% search Patient by NHS number.'
        : 'Mix: 20% read Patient, 20% read Observation, 20% create Observation (blood pressure), 20% update Patient (new mobile number); search is not registered yet, so its fifth is 10% vread and 10% instance history of a Patient.',
    ],
    targets: [{ what: `CRUD mix, ${concurrency} clients`, target: '≥ 1,500 requests/s', measured: `${n0(mix.requestsPerSecond)} requests/s`, met: mix.requestsPerSecond >= 1500 && mix.errors === 0 }],
  };
}

async function bundles(server: Server, caps: Capabilities): Promise<ScenarioResult> {
  const concurrency = options.concurrency ?? 4;
  const base: ScenarioResult = { scenario: 'bundle', engine: server.engine, capabilities: caps, loads: [], notes: [], targets: [] };
  if (!caps.transaction) {
    base.notes.push('Transaction Bundles are not supported by this server yet (POST /fhir is not an interaction it has): not measured.');
    base.targets.push({ what: 'transaction-bundle ingest', target: '≥ 3,000 resources/s', measured: 'not available', met: null });
    return base;
  }
  let next: number = FIRST_PATIENT.bundle;
  const load = await runLoad(server, `transaction Bundles of ~${options.bundleSize} resources`, concurrency, async () => {
    const { body, resources, patients } = transactionBundle(next, options.bundleSize);
    next += patients;
    return answered(await call(server.port, 'POST', '/fhir', body), 'POST transaction Bundle', [200], resources);
  }, { warmupMs: options.warmupMs, durationMs: options.durationMs });
  base.loads.push(load);
  base.notes.push(`Each Bundle holds whole patient records (Patient, Encounters, Observations, Conditions, MedicationRequests; ${(load.units / Math.max(1, load.requests)).toFixed(0)} resources on average), POSTed under urn:uuid fullUrls that the other entries refer to; ${concurrency} clients.`);
  base.targets.push({ what: 'transaction-bundle ingest', target: '≥ 3,000 resources/s', measured: `${n0(load.unitsPerSecond)} resources/s`, met: load.unitsPerSecond >= 3000 && load.errors === 0 });
  return base;
}


async function bulkImport(server: Server, caps: Capabilities): Promise<ScenarioResult> {
  const base: ScenarioResult = { scenario: 'import', engine: server.engine, capabilities: caps, loads: [], notes: [], targets: [] };
  if (!caps.import) {
    base.notes.push('Bulk NDJSON import is not on this server yet (POST /fhir/$import is not an interaction it has): not measured.');
    base.targets.push({ what: 'bulk NDJSON import', target: '≥ 15,000 resources/s', measured: 'not available', met: null });
    return base;
  }
  const concurrency = options.concurrency ?? 2;
  let next: number = FIRST_PATIENT.import;
  const load = await runLoad(server, `NDJSON $import, ~${options.importSize} resources a request`, concurrency, async () => {
    const { body, resources, patients } = ndjson(next, options.importSize);
    next += patients;
    return answered(await call(server.port, 'POST', fhirPath('$import'), body, { 'content-type': 'application/fhir+ndjson' }), 'POST $import', [200, 201, 202], resources);
  }, { warmupMs: options.warmupMs, durationMs: options.durationMs });
  base.loads.push(load);
  base.notes.push(`Whole patient records as NDJSON with their ids, ${concurrency} clients.`);
  base.targets.push({ what: 'bulk NDJSON import', target: '≥ 15,000 resources/s', measured: `${n0(load.unitsPerSecond)} resources/s`, met: load.unitsPerSecond >= 15000 && load.errors === 0 });
  return base;
}

/** Loads patients 0 .. count-1 by the fastest path the server has. */
async function loadPatients(server: Server, caps: Capabilities, count: number): Promise<LoadResult> {
  let next = 0;
  if (caps.import) {
    return runLoad(server, `load ${n0(count)} patients by $import`, options.concurrency ?? 2, async () => {
      if (next >= count) return undefined;
      const { body, resources, patients } = ndjson(next, options.importSize, count);
      next += patients;
      return answered(await call(server.port, 'POST', fhirPath('$import'), body, { 'content-type': 'application/fhir+ndjson' }), 'POST $import', [200, 201, 202], resources);
    }, { warmupMs: 0, durationMs: undefined });
  }
  if (caps.transaction) {
    return runLoad(server, `load ${n0(count)} patients by transaction Bundles`, options.concurrency ?? 4, async () => {
      if (next >= count) return undefined;
      const { body, resources, patients } = transactionBundle(next, options.bundleSize, count);
      next += patients;
      return answered(await call(server.port, 'POST', '/fhir', body), 'POST transaction Bundle', [200], resources);
    }, { warmupMs: 0, durationMs: undefined });
  }
  // One request a resource: the Patient first, then what refers to it, with stable ids.
  return runLoad(server, `load ${n0(count)} patients by one PUT a resource`, options.concurrency ?? 16, async () => {
    if (next >= count) return undefined;
    const n = next++;
    const { idOf, ref } = stableIds(n);
    const record = patientRecord(n, options.encounters, idOf, ref);
    for (const resource of record.resources) {
      const reply = await call(server.port, 'PUT', fhirPath(`${resource.resourceType as string}/${resource.id as string}`), JSON.stringify(resource), { prefer: 'return=minimal' });
      if (reply.status !== 201 && reply.status !== 200) return answered(reply, 'PUT', [201]);
    }
    return { kind: 'PUT a patient record', ok: true, units: record.resources.length };
  }, { warmupMs: 0, durationMs: undefined });
}

interface Sampled { id: string; record: PatientRecord }

/**
 * ANALYZE after a load, as autovacuum would do on a server within a minute or so. The embedded
 * engine has no autovacuum, and the test server here runs with it off: without statistics the
 * planner takes every index table for empty and searches take seconds. The embedded engine is
 * single-user, so its server is stopped while this process opens the directory.
 */
async function analyze(current: { server: Server }): Promise<string> {
  const started = performance.now();
  const { server } = current;
  let autovacuum = 'off (PGlite has no autovacuum)';
  if (server.admin) {
    autovacuum = String((await server.admin.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum);
    await server.admin.query('ANALYZE');
  } else if (server.dataDir) {
    await server.stop(true);
    const db = await openDatabase({ dataDir: server.dataDir });
    await db.query('ANALYZE');
    await db.close();
    current.server = await startServer('embedded', true, server.dataDir);
  }
  return `ANALYZE after loading took ${((performance.now() - started) / 1000).toFixed(0)} s (autovacuum: ${autovacuum}).`;
}

async function search(current: { server: Server }, caps: Capabilities): Promise<ScenarioResult> {
  let server = current.server;
  const base: ScenarioResult = { scenario: 'search', engine: server.engine, capabilities: caps, loads: [], notes: [], targets: [] };
  if (!options.reuse) {
    const load = await loadPatients(server, caps, options.patients);
    base.loads.push(load);
    base.notes.push(`Loaded ${n0(options.patients)} patients, ${n0(load.units)} resources (${(load.units / options.patients).toFixed(1)} a patient) in ${load.seconds.toFixed(0)} s: ${n0(load.unitsPerSecond)} resources/s, ${load.errors} errors.`);
    base.notes.push(await analyze(current));
    server = current.server;
  } else {
    base.notes.push(`Reused the ${options.patients} patients loaded by an earlier run (--reuse).`);
  }
  if (!caps.search) {
    base.notes.push('Search is not registered on this server yet: the searches were not measured.');
    for (const what of ['Patient by NHS number', 'Patient by family name + birthdate', 'Observation by patient + code + date range, sorted', 'Encounter by patient, sorted', 'Condition by patient + _include=Condition:patient', 'Patient/$everything']) {
      base.targets.push({ what, target: what.includes('everything') ? 'p50 ≤ 50 ms' : 'p50 ≤ 5 ms, p99 ≤ 50 ms', measured: 'not available', met: null });
    }
    return base;
  }
  // A sample of patients, found by NHS number as a client would find them.
  const rnd = random(7);
  const sample: Sampled[] = [];
  for (let i = 0; i < 500; i++) {
    const n = Math.floor(rnd() * options.patients);
    const record = patientRecord(n, options.encounters, () => undefined, (kind, k) => `${kind}/${k}`);
    const reply = await call(server.port, 'GET', fhirPath(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER}|${record.nhsNumber}`)}`));
    const bundle = JSON.parse(reply.body) as { entry?: Array<{ resource: { id: string } }> };
    const id = bundle.entry?.[0]?.resource.id;
    if (id === undefined) throw new Error(`patient ${n} (NHS number ${record.nhsNumber}) was not found by its NHS number: ${reply.status} ${reply.body.slice(0, 200)}`);
    sample.push({ id, record });
  }
  const entriesOf = (reply: Reply): number => {
    try {
      return ((JSON.parse(reply.body) as { entry?: unknown[] }).entry ?? []).length;
    } catch {
      return 0;
    }
  };
  const queries: Array<{ what: string; target: { p50: number; p99?: number }; url: (s: Sampled) => string; needs?: keyof Capabilities }> = [
    { what: 'Patient by NHS number', target: { p50: 5, p99: 50 }, url: (s) => `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER}|${s.record.nhsNumber}`)}` },
    { what: 'Patient by family name + birthdate', target: { p50: 5, p99: 50 }, url: (s) => `Patient?family=${encodeURIComponent(s.record.family)}&birthdate=${s.record.birthDate}` },
    {
      what: 'Observation by patient + code + date range, sorted',
      target: { p50: 5, p99: 50 },
      url: (s) => `Observation?patient=${s.id}&code=${encodeURIComponent(`${SNOMED}|${BLOOD_PRESSURE.code}`)}&date=ge2022-01-01&date=le2024-12-31&_sort=-date`,
    },
    { what: 'Encounter by patient, sorted', target: { p50: 5, p99: 50 }, url: (s) => `Encounter?patient=${s.id}&_sort=-date` },
    { what: 'Condition by patient + _include=Condition:patient', target: { p50: 5, p99: 50 }, url: (s) => `Condition?patient=${s.id}&_include=Condition:patient` },
    { what: 'Patient/$everything', target: { p50: 50 }, url: (s) => `Patient/${s.id}/$everything`, needs: 'everything' },
  ];
  const seconds = Math.max(5_000, Math.round(options.durationMs / 3));
  const clients = options.concurrency ?? 16;
  for (const query of queries) {
    if (query.needs && !caps[query.needs]) {
      base.targets.push({ what: query.what, target: `p50 ≤ ${query.target.p50} ms`, measured: 'not available', met: null });
      continue;
    }
    const operation = async (): Promise<Done> => {
      const s = sample[Math.floor(rnd() * sample.length)] as Sampled;
      const reply = await call(server.port, 'GET', fhirPath(query.url(s)));
      const done = answered(reply, query.what, [200]);
      return done.ok ? { ...done, entries: entriesOf(reply) } : done;
    };
    const alone = await runLoad(server, `${query.what} (1 client)`, 1, operation, { warmupMs: Math.min(options.warmupMs, 2000), durationMs: seconds });
    const loaded = await runLoad(server, `${query.what} (${clients} clients)`, clients, operation, { warmupMs: Math.min(options.warmupMs, 2000), durationMs: seconds });
    base.loads.push(alone, loaded);
    const stats = alone.latency[0];
    const met = stats !== undefined && alone.errors === 0 && stats.p50 <= query.target.p50 && (query.target.p99 === undefined || stats.p99 <= query.target.p99);
    base.targets.push({
      what: query.what,
      target: query.target.p99 === undefined ? `p50 ≤ ${query.target.p50} ms` : `p50 ≤ ${query.target.p50} ms, p99 ≤ ${query.target.p99} ms`,
      measured: stats ? `p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms (1 client); ${loaded.latency[0]?.p50.toFixed(1) ?? '?'} / ${loaded.latency[0]?.p99.toFixed(1) ?? '?'} ms at ${n0(loaded.requestsPerSecond)}/s (${clients} clients)` : 'no answers',
      met,
    });
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// The server's CPU profile, cut to the measured seconds.

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }
interface ProfileSummary { sampledMs: number; functions: Array<{ name: string; ms: number; share: number }>; places: Array<{ name: string; ms: number; share: number }> }

/** Where a function lives: a package, a file of ours, or V8's own bookkeeping. */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const inRepo = url.indexOf(ROOT.replace(/\/$/, ''));
  return inRepo >= 0 ? url.slice(inRepo + ROOT.length).replace(/^\//, '') : url;
}

/** Self time by function and by package or file, over the samples inside the windows (µs, monotonic clock). */
function summarizeProfiles(dir: string, windows: Array<[number, number]>): ProfileSummary | undefined {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0 || windows.length === 0) return undefined;
  // The profile's clock is the monotonic one; this process's performance.timeOrigin is wall-clock based.
  const offset = Number(process.hrtime.bigint() / 1000n) - Math.round((performance.timeOrigin + performance.now()) * 1000);
  const inside = (t: number): boolean => windows.some(([a, b]) => t >= a + offset && t <= b + offset);
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let sampled = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const times: number[] = [];
    let t = profile.startTime;
    for (const delta of profile.timeDeltas) times.push((t += delta));
    // If the clocks cannot be matched, the whole profile is better than nothing.
    const cut = times.some(inside);
    profile.samples.forEach((id, i) => {
      if (cut && !inside(times[i] ?? 0)) return;
      const node = nodes.get(id);
      if (!node || node.callFrame.functionName === '(idle)') return;
      const delta = profile.timeDeltas[i] ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      const place = placeOf(url, functionName);
      const name = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + delta / 1000);
      byPlace.set(place, (byPlace.get(place) ?? 0) + delta / 1000);
      sampled += delta / 1000;
    });
  }
  const top = (map: Map<string, number>, n: number): Array<{ name: string; ms: number; share: number }> =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, ms, share: ms / sampled }));
  return { sampledMs: sampled, functions: top(byFunction, 25), places: top(byPlace, 20) };
}

// ---------------------------------------------------------------------------------------------
// Report.

const ms = (x: number): string => x.toFixed(1);
const n0 = (x: number): string => Math.round(x).toLocaleString('en-GB');

function machine(): Json {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg()[0],
  };
}

function table(result: ScenarioResult): string {
  const out: string[] = [`### ${result.scenario} on the ${result.engine} engine`, ''];
  for (const note of result.notes) out.push(`- ${note}`);
  if (result.notes.length) out.push('');
  if (result.loads.length) {
    out.push('| measurement | clients | kind | requests | per second | p50 ms | p90 ms | p99 ms | max ms | errors |');
    out.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const load of result.loads) {
      for (const k of load.latency) {
        const perSecond = k.kind === 'all' || load.latency.length === 1 ? `${n0(k.perSecond)}${load.units !== load.requests && (k.kind === 'all' || load.latency.length === 1) ? ` (${n0(load.unitsPerSecond)} resources/s)` : ''}` : n0(k.perSecond);
        out.push(`| ${load.name} | ${load.concurrency} | ${k.kind}${k.meanEntries !== undefined ? ` (${k.meanEntries.toFixed(1)} entries)` : ''} | ${n0(k.requests)} | ${perSecond} | ${ms(k.p50)} | ${ms(k.p90)} | ${ms(k.p99)} | ${ms(k.max)} | ${k.errors} |`);
      }
    }
    out.push('');
    out.push('CPU per request (ms) and cores busy during each measurement:');
    out.push('');
    out.push('| measurement | server (node + threads) | of which main thread | PostgreSQL backends | load generator | cores busy: server / PostgreSQL / load generator | idle-machine ceiling, requests/s |');
    out.push('|---|---:|---:|---:|---:|---|---:|');
    for (const load of result.loads) {
      const c = load.cpuPerRequest;
      out.push(`| ${load.name} | ${ms(c.server)} | ${ms(c.serverMainThread)} | ${result.engine === 'server' ? ms(c.postgres) : '(in the server)'} | ${ms(c.loadGenerator)} | ${load.coresBusy.server.toFixed(2)} / ${load.coresBusy.postgres.toFixed(2)} / ${load.coresBusy.loadGenerator.toFixed(2)} | ${n0(load.idleCeiling)}${load.units !== load.requests && load.requests > 0 ? ` (${n0((load.idleCeiling * load.units) / load.requests)} resources/s)` : ''} |`);
    }
    const errors = result.loads.flatMap((l) => l.firstErrors);
    if (errors.length) out.push('', 'First errors:', '', ...errors.map((e) => `    ${e}`));
  }
  out.push('', '| target | wanted | measured | met |', '|---|---|---|---|');
  for (const t of result.targets) out.push(`| ${t.what} | ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**missed**'} |`);
  if (result.profile) {
    out.push('', `Server CPU profile over the measured seconds (${n0(result.profile.sampledMs)} ms sampled, every thread):`, '');
    out.push('| package or file | self ms | share |', '|---|---:|---:|');
    for (const p of result.profile.places) out.push(`| ${p.name} | ${n0(p.ms)} | ${(p.share * 100).toFixed(1)}% |`);
    out.push('', '| function | self ms | share |', '|---|---:|---:|');
    for (const f of result.profile.functions) out.push(`| ${f.name.replaceAll('|', '\\|')} | ${n0(f.ms)} | ${(f.share * 100).toFixed(1)}% |`);
  }
  return out.join('\n');
}

async function postgresVersion(): Promise<string | undefined> {
  try {
    return String((await adminQuery('SHOW server_version')).rows[0]?.server_version);
  } catch {
    return undefined;
  }
}

/** --write-ndjson FILE: the records of patients 0 .. --patients-1 as one NDJSON file (for curl or importNdjson), then stop. */
function writeNdjson(file: string): void {
  const out = fs.openSync(file, 'w');
  let resources = 0;
  for (let n = 0; n < options.patients; ) {
    const chunk = ndjson(n, 10_000, options.patients);
    fs.writeSync(out, chunk.body);
    resources += chunk.resources;
    n += chunk.patients;
  }
  fs.closeSync(out);
  process.stdout.write(`${file}: ${n0(resources)} resources of ${n0(options.patients)} patients\n`);
}

async function main(): Promise<void> {
  const ndjsonFile = argument('write-ndjson', '');
  if (ndjsonFile) return writeNdjson(ndjsonFile);
  const scenarios: Scenario[] = options.scenario === 'all' ? ['crud', 'bundle', 'import', 'search'] : [options.scenario as Scenario];
  if (!scenarios.every((s) => ['crud', 'bundle', 'import', 'search'].includes(s))) throw new Error('--scenario must be crud, bundle, import, search or all');
  if (!['server', 'embedded', 'both'].includes(options.engine)) throw new Error('--engine must be server, embedded or both');
  if (!fs.existsSync(TSX)) throw new Error('node_modules/.bin/tsx is missing: run npm install first');
  const engines: Engine[] = options.engine === 'both' ? ['server', 'embedded'] : [options.engine as Engine];
  const results: ScenarioResult[] = [];
  const header = { ...machine(), postgres: await postgresVersion() };
  process.stdout.write(`machine: ${JSON.stringify(header)}\n\n`);
  for (const engine of engines) {
    for (const scenario of scenarios) {
      const reuse = options.reuse && scenario === 'search';
      const current = { server: await startServer(engine, reuse) };
      const server = current.server;
      let result: ScenarioResult;
      try {
        const caps = await capabilities(server.port);
        process.stderr.write(`${engine} ${scenario}: ${JSON.stringify(caps)}\n`);
        result = scenario === 'crud' ? await crud(server, caps) : scenario === 'bundle' ? await bundles(server, caps) : scenario === 'import' ? await bulkImport(server, caps) : await search(current, caps);
      } finally {
        agent.destroy();
        await current.server.stop();
      }
      if (current.server.profileDir) {
        const profile = summarizeProfiles(current.server.profileDir, result.loads.filter((l) => !l.name.startsWith('seed') && !l.name.startsWith('load')).map((l) => l.window));
        if (profile) result.profile = profile;
        process.stderr.write(`profile kept in ${current.server.profileDir}\n`);
      }
      results.push(result);
      process.stdout.write(`${table(result)}\n\n`);
    }
  }
  const json = { machine: header, options: { ...options, adminUrl: undefined }, results };
  process.stdout.write(`\`\`\`json\n${JSON.stringify(json)}\n\`\`\`\n`);
  if (options.json) fs.writeFileSync(options.json, JSON.stringify(json, null, 2));
  process.stdout.write(`load average after: ${(os.loadavg()[0] ?? 0).toFixed(1)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
