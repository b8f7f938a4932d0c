/**
 * The population stage: an area and a seed → households of true `Resident`s.
 *
 * Two steps, so that any household can be made on its own (by index, in any order, in workers):
 * 1. The *plan* (built once per area, size and seed, from its own random stream): residents are
 *    shared out over the LSOAs in proportion to their population (largest remainder), each LSOA's
 *    share split into its IMD file 6 age groups (0–15, 16–59, 60+), and the people of each LSOA
 *    grouped into households (families with children, couples, older people alone…) by the rules in
 *    `HOUSEHOLD_RULES`. The plan holds only a few small numbers per household (typed arrays).
 * 2. A *household* (`household(area, options, index)`) is drawn from `new Random(seed, index)`
 *    only: ages, sexes, ethnicity, names, address, practice, smoking, conditions, frailty, deaths.
 *
 * The residents are everyone who lived in the area during the five-year window up to `asOf`:
 * those alive at `asOf` follow the LSOAs' age groups and England's age structure, and those who
 * died in the window are added on top (ages are drawn with weight 1 / survival, then deaths drawn
 * from each person's own risk), so the living population still matches its targets.
 */
import { type Area, type AreaDistrict, type AreaLsoa } from './geography.js';
import type { Address, ConditionKey, Frailty, Resident, Sex, SmokingStatus } from './model.js';
import { givenNameFor, inwardCode, streetLine, surnameFor, WeightedList } from './names.js';
import { nhsNumberFor, NHS_NUMBER_CAPACITY } from './nhs-number.js';
import {
  AGE_GROUP_RANGE,
  type AgeGroup,
  CONDITIONS,
  ENGLAND_BY_AGE,
  HOUSEHOLD_RULES,
  type LatentHealth,
  MORTALITY,
  annualDeathProbability,
  conditionsPresent,
  deathProbability,
  ethnicityWeights,
  frailtyOf,
  quintileOf,
  smokingProbabilities,
} from './prevalence.js';
import { Random, civilOfDay, dateOfDay } from './random.js';

export interface PopulationOptions {
  people: number;
  seed: number;
  /** YYYY-MM-DD: the end of the five-year history window. */
  asOf: string;
}

const DAY = 86_400_000;
const YEAR_DAYS = 365.2425;
const WINDOW_YEARS = 5;
/** The plan's own random stream: far above any household index. */
const PLAN_STREAM = 2 ** 40;

function dayOf(date: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`population: ${field} must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY;
}

// ---------------------------------------------------------------------------------------------
// Ages: England's structure within each IMD age group, weighted by 1 / (chance of surviving the
// window), so that after deaths the living follow the structure.

/** Chance that someone aged `age` at asOf died in the five years before (England average). */
function windowDeathProbability(sex: Sex, age: number): number {
  const years = Math.min(WINDOW_YEARS, age);
  if (years <= 0) return 0;
  return 1 - (1 - annualDeathProbability(sex, Math.max(0, age - years / 2))) ** years;
}

interface AgeSex {
  age: number;
  sex: Sex;
}

const AGE_SEX_BY_GROUP = new Map<AgeGroup, WeightedList<AgeSex>>();
const GROUP_INFLATION: Record<AgeGroup, number> = { children: 1, adults: 1, older: 1 };
for (const group of ['children', 'adults', 'older'] as const) {
  const [from, to] = AGE_GROUP_RANGE[group];
  const items: AgeSex[] = [];
  const weights: number[] = [];
  let living = 0;
  let all = 0;
  for (let age = from; age <= to; age++) {
    for (const sex of ['male', 'female'] as const) {
      const alive = ENGLAND_BY_AGE[sex][age] as number;
      const w = alive / (1 - windowDeathProbability(sex, age));
      items.push({ age, sex });
      weights.push(w);
      living += alive;
      all += w;
    }
  }
  AGE_SEX_BY_GROUP.set(group, new WeightedList(items, weights));
  GROUP_INFLATION[group] = all / living;
}

// ---------------------------------------------------------------------------------------------
// The plan.

/** Household kinds. */
const enum Kind {
  Family = 0,
  OlderCouple = 1,
  OlderAlone = 2,
  OlderWithAdultChild = 3,
  AdultAlone = 4,
  AdultCouple = 5,
  AdultSharing = 6,
}

/** Roles of household members; the first member is the head (a parent, or the single, or a sharer). */
const enum Role {
  Head = 0,
  Partner = 1,
  Child = 2,
  YoungAdult = 3,
  Grandparent = 4,
  Sharer = 5,
}

interface Plan {
  count: number;
  people: number;
  /** Per household: LSOA index, kind, first resident's sequence number (start[count] = people). */
  lsoa: Uint32Array;
  kind: Uint8Array;
  start: Uint32Array;
  /** Per resident: age at asOf (had they lived), sex (0 male, 1 female), role. */
  age: Uint8Array;
  sex: Uint8Array;
  role: Uint8Array;
  /** Day numbers of asOf and of the start of the five-year window. */
  asOfDay: number;
  windowStart: number;
}

/** Shares `total` out in proportion to `weights`, in whole numbers (largest remainder; ties by index). */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (!(sum > 0)) throw new Error('largestRemainder: the weights must include a positive one');
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((s, v) => s + v, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) {
    const i = (order[k] as { i: number }).i;
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

const MAX_POOL_AGE = 104;
const AGES = MAX_POOL_AGE + 1;
/** Fenwick tree size: a power of two above the 2 × 105 buckets. */
const TREE = 256;

/**
 * A neighbourhood's people of one age group, not yet in a household, in buckets by sex and age
 * (bucket sex × 105 + age) with a Fenwick tree of their sizes, so that taking someone at random,
 * or at random among an age range, costs a few steps whatever the size of the pool.
 */
class Pool {
  /** LSOA indexes of the people in each bucket. */
  private readonly buckets: number[][] = Array.from({ length: 2 * AGES }, () => []);
  private readonly tree = new Int32Array(TREE + 1);
  private count = 0;

  /** Empties the pool for the next neighbourhood (keeps its arrays). */
  clear(): void {
    for (const b of this.buckets) b.length = 0;
    this.tree.fill(0);
    this.count = 0;
  }

  private bump(bucket: number, delta: number): void {
    for (let i = bucket + 1; i <= TREE; i += i & -i) this.tree[i] = (this.tree[i] as number) + delta;
  }

  /** People in buckets 0..bucket-1. */
  private before(bucket: number): number {
    let sum = 0;
    for (let i = bucket; i > 0; i -= i & -i) sum += this.tree[i] as number;
    return sum;
  }

  add(random: Random, group: AgeGroup, count: number, lsoa: number): void {
    const list = AGE_SEX_BY_GROUP.get(group) as WeightedList<AgeSex>;
    for (let i = 0; i < count; i++) {
      const d = list.pick(random);
      const bucket = (d.sex === 'male' ? 0 : AGES) + d.age;
      (this.buckets[bucket] as number[]).push(lsoa);
      this.bump(bucket, 1);
    }
    this.count += count;
  }

  get size(): number {
    return this.count;
  }

  /** Takes the k-th person (0-based) in bucket order. */
  private takeNth(k: number): Taken {
    // Fenwick descent: the bucket holding the k-th person.
    let pos = 0;
    let rest = k;
    for (let step = TREE >> 1; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= TREE && (this.tree[next] as number) <= rest) {
        pos = next;
        rest -= this.tree[next] as number;
      }
    }
    const bucket = this.buckets[pos] as number[];
    const lsoa = bucket[rest] as number;
    bucket[rest] = bucket[bucket.length - 1] as number;
    bucket.pop();
    this.bump(pos, -1);
    this.count -= 1;
    return [pos % AGES, pos >= AGES ? 1 : 0, lsoa];
  }

  any(random: Random): Taken {
    return this.takeNth(Math.floor(random.next() * this.count));
  }

  /** Someone aged minAge..maxAge (and of `sex` if given), uniformly among those; undefined if nobody. */
  find(random: Random, minAge: number, maxAge: number, sex?: number): Taken | undefined {
    const lo = Math.max(0, minAge);
    const hi = Math.min(MAX_POOL_AGE, maxAge);
    if (this.count === 0 || lo > hi) return undefined;
    const male = sex === 1 ? 0 : this.before(hi + 1) - this.before(lo);
    const female = sex === 0 ? 0 : this.before(AGES + hi + 1) - this.before(AGES + lo);
    const n = male + female;
    if (n === 0) return undefined;
    const k = Math.floor(random.next() * n);
    return k < male ? this.takeNth(this.before(lo) + k) : this.takeNth(this.before(AGES + lo) + k - male);
  }
}

/** Age, sex (0 male, 1 female) and LSOA index of someone taken from a pool. */
type Taken = [age: number, sex: number, lsoa: number];

/**
 * People are grouped into households within a neighbourhood: consecutive LSOAs (by code, so mostly
 * of one district) holding at least this many of the planned residents. With a large population that is one
 * LSOA; with a small one (20,000 people over 480 LSOAs is 40 each) a few, so that partners and
 * parents of fitting ages are there to be found. Everyone in a household lives in its head's LSOA.
 */
const NEIGHBOURHOOD_PEOPLE = 400;

const planCache = new WeakMap<Area, Map<string, Plan>>();

/**
 * The plan of a population: for each LSOA, its share of the residents, drawn by age group with
 * their ages and sexes, then grouped into households so that parents are 17–46 years older than
 * their children, partners of similar age, and young adults at home, older couples and people
 * living alone appear as often as `HOUSEHOLD_RULES` says.
 */
function buildPlan(area: Area, options: PopulationOptions): Plan {
  const { people } = options;
  const random = new Random(options.seed, PLAN_STREAM);
  const rules = HOUSEHOLD_RULES;
  const perLsoa = largestRemainder(
    people,
    area.lsoas.map((l) => l.children + l.adults + l.older),
  );
  const hhLsoa: number[] = [];
  // (households are flushed neighbourhood by neighbourhood, in LSOA order)
  const hhKind: number[] = [];
  const hhStart: number[] = [];
  const age = new Uint8Array(people);
  const sex = new Uint8Array(people);
  const role = new Uint8Array(people);
  let next = 0;
  const childrenCounts = new WeightedList(rules.childrenPerFamily.counts, rules.childrenPerFamily.weights);
  const olderCoupleDraw = rules.olderLiveInCoupleShare / (2 - rules.olderLiveInCoupleShare);
  const adultKinds = new WeightedList([Kind.AdultAlone, Kind.AdultCouple, Kind.AdultSharing], [rules.adultsAlone, rules.adultsCouple, rules.adultsSharing]);
  const other = (s: number): number => (random.chance(rules.sameSexCoupleShare) ? s : 1 - s);

  type Member = [age: number, sex: number, role: Role];
  const flush = (households: { kind: Kind; lsoa: number; members: Member[] }[]): void => {
    for (const h of households) {
      hhLsoa.push(h.lsoa);
      hhKind.push(h.kind);
      hhStart.push(next);
      for (const [ma, ms, mr] of h.members) {
        age[next] = ma;
        sex[next] = ms;
        role[next] = mr;
        next += 1;
      }
    }
  };

  const carry = [0, 0, 0];
  const children = new Pool();
  const adults = new Pool();
  const older = new Pool();
  let l = 0;
  while (l < area.lsoas.length) {
    // The neighbourhood: LSOAs l..end-1 (consecutive codes, mostly of one district).
    let end = l;
    let planned = 0;
    while (end < area.lsoas.length && (planned < NEIGHBOURHOOD_PEOPLE || end === l)) {
      planned += perLsoa[end] as number;
      end += 1;
    }
    // Leave no small remainder at the end: it joins this neighbourhood.
    let rest = 0;
    for (let k = end; k < area.lsoas.length && rest < NEIGHBOURHOOD_PEOPLE; k++) rest += perLsoa[k] as number;
    if (rest < NEIGHBOURHOOD_PEOPLE) end = area.lsoas.length;

    children.clear();
    adults.clear();
    older.clear();
    for (let k = l; k < end; k++) {
      const total = perLsoa[k] as number;
      if (total === 0) continue;
      const lsoa = area.lsoas[k] as AreaLsoa;
      // Each LSOA's residents by age group, with the rounding error carried on to the next LSOA, so
      // that one or two residents per LSOA (a small population) still give every group its share.
      const weights = [lsoa.children * GROUP_INFLATION.children, lsoa.adults * GROUP_INFLATION.adults, lsoa.older * GROUP_INFLATION.older];
      const sum = lsoa.children * GROUP_INFLATION.children + lsoa.adults * GROUP_INFLATION.adults + lsoa.older * GROUP_INFLATION.older;
      const expected = weights.map((w, g) => (total * w) / sum + (carry[g] as number));
      const [c, a, o] = largestRemainder(
        total,
        expected.map((e) => Math.max(1e-9, e)),
      ) as [number, number, number];
      carry[0] = (expected[0] as number) - c;
      carry[1] = (expected[1] as number) - a;
      carry[2] = (expected[2] as number) - o;
      children.add(random, 'children', c, k);
      adults.add(random, 'adults', a, k);
      older.add(random, 'older', o, k);
    }
    l = end;
    const households: { kind: Kind; lsoa: number; members: Member[] }[] = [];
    const families: Member[][] = [];

    // Families with dependent children.
    while (children.size > 0) {
      const kids: Member[] = [];
      let kidsLsoa = 0;
      const k = Math.min(children.size, childrenCounts.pick(random));
      for (let i = 0; i < k; i++) {
        const [ka, ks, kl] = children.any(random);
        kids.push([ka, ks, Role.Child]);
        kidsLsoa = kl;
      }
      const oldestKid = Math.max(...kids.map((m) => m[0]));
      const youngestKid = Math.min(...kids.map((m) => m[0]));
      const lo = Math.max(19, oldestKid + 17);
      const hi = Math.min(59, youngestKid + 46);
      const lone = adults.size < 2 || random.chance(rules.loneParentShare);
      // Nine lone parents in ten are mothers (ONS, Families and households 2023).
      const firstSex = lone ? (random.chance(0.9) ? 1 : 0) : random.chance(0.5) ? 1 : 0;
      const first = adults.find(random, lo, hi, firstSex) ?? adults.find(random, lo, hi) ?? adults.find(random, 19, 59) ?? adults.find(random, 16, 59) ?? older.find(random, 60, 80);
      if (!first) {
        // Nobody left to look after them: they join the last family of the neighbourhood, or one of their own.
        const last = families[families.length - 1];
        if (last) last.push(...kids);
        else households.push({ kind: Kind.Family, lsoa: kidsLsoa, members: kids });
        continue;
      }
      const members: Member[] = [[first[0], first[1], Role.Head]];
      if (!lone) {
        const want = other(first[1]);
        const partner = adults.find(random, Math.max(lo, first[0] - 8), Math.min(hi + 3, first[0] + 8), want) ?? adults.find(random, Math.max(lo, first[0] - 12), Math.min(hi + 3, first[0] + 12), want);
        if (partner) members.push([partner[0], partner[1], Role.Partner]);
      }
      if (random.chance(rules.youngAdultAtHomeShare)) {
        for (let y = 0; y < (random.chance(rules.secondYoungAdultShare) ? 2 : 1); y++) {
          const young = adults.find(random, Math.max(16, first[0] - 46), Math.min(24, first[0] - 17));
          if (young) members.push([young[0], young[1], Role.YoungAdult]);
        }
      }
      if (older.size > 0 && random.chance(rules.grandparentInFamilyShare)) {
        const gp = older.find(random, first[0] + 18, first[0] + 45);
        if (gp) members.push([gp[0], gp[1], Role.Grandparent]);
      }
      members.push(...kids);
      households.push({ kind: Kind.Family, lsoa: first[2], members });
      families.push(members);
    }

    // Older people: couples, alone, a few with a grown-up child.
    while (older.size > 0) {
      const [pa, ps, pl] = older.any(random);
      if (random.chance(olderCoupleDraw)) {
        // Widen the search before giving up: a partner a little further in age, or a younger one.
        const want = other(ps);
        const partner = older.find(random, pa - 8, pa + 8, want) ?? older.find(random, pa - 15, pa + 15, want) ?? adults.find(random, Math.max(45, pa - 12), 59, want) ?? older.find(random, 60, 104, want);
        if (partner) {
          households.push({ kind: Kind.OlderCouple, lsoa: pl, members: [[pa, ps, Role.Head], [partner[0], partner[1], Role.Partner]] });
          continue;
        }
      }
      if (adults.size > 0 && random.chance(rules.olderWithAdultChildShare)) {
        const child = adults.find(random, Math.max(20, pa - 45), pa - 18);
        if (child) {
          households.push({ kind: Kind.OlderWithAdultChild, lsoa: pl, members: [[pa, ps, Role.Head], [child[0], child[1], Role.YoungAdult]] });
          continue;
        }
      }
      households.push({ kind: Kind.OlderAlone, lsoa: pl, members: [[pa, ps, Role.Head]] });
    }

    // Other adults: alone, couples, sharers; 16- and 17-year-olds stay with a family.
    while (adults.size > 0) {
      const [pa, ps, pl] = adults.any(random);
      if (pa < 18 && families.length > 0) {
        (families[Math.floor(random.next() * families.length)] as Member[]).splice(1, 0, [pa, ps, Role.YoungAdult]);
        continue;
      }
      const kind = adultKinds.pick(random);
      if (kind === Kind.AdultCouple) {
        const want = other(ps);
        const partner = adults.find(random, Math.max(18, pa - 10), pa + 10, want) ?? adults.find(random, Math.max(18, pa - 20), pa + 20, want) ?? (pa >= 45 ? older.find(random, 60, pa + 15, want) : undefined) ?? adults.find(random, 18, 59, want);
        if (partner) {
          households.push({ kind, lsoa: pl, members: [[pa, ps, Role.Head], [partner[0], partner[1], Role.Partner]] });
          continue;
        }
      } else if (kind === Kind.AdultSharing) {
        const members: Member[] = [[pa, ps, Role.Sharer]];
        const more = random.chance(0.6) ? 2 : 3;
        for (let i = 0; i < more; i++) {
          const mate = adults.find(random, Math.max(18, pa - 12), pa + 12) ?? adults.find(random, 18, 59);
          if (mate) members.push([mate[0], mate[1], Role.Sharer]);
        }
        if (members.length > 1) {
          households.push({ kind, lsoa: pl, members });
          continue;
        }
      }
      households.push({ kind: Kind.AdultAlone, lsoa: pl, members: [[pa, ps, Role.Head]] });
    }
    flush(households);
  }
  if (next !== people) throw new Error(`population plan: ${next} residents planned for ${people}`);
  const asOfDay = dayOf(options.asOf, 'asOf');
  return {
    count: hhLsoa.length,
    people,
    lsoa: Uint32Array.from(hhLsoa),
    kind: Uint8Array.from(hhKind),
    start: Uint32Array.from([...hhStart, people]),
    age,
    sex,
    role,
    asOfDay,
    windowStart: asOfDay - Math.round(WINDOW_YEARS * YEAR_DAYS),
  };
}

function checkOptions(area: Area, options: PopulationOptions): void {
  if (!Number.isInteger(options.people) || options.people < 1) throw new Error(`population: people must be a whole number of at least 1, got ${options.people}`);
  if (options.people > NHS_NUMBER_CAPACITY) throw new Error(`population: people must be at most ${NHS_NUMBER_CAPACITY} (the test range of NHS numbers), got ${options.people}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error(`population: seed must be a non-negative integer, got ${options.seed}`);
  dayOf(options.asOf, 'asOf');
  if (area.lsoas.length === 0) throw new Error(`population: the area ${area.icb.code} has no LSOAs`);
}

let lastPlan: { area: Area; people: number; seed: number; asOf: string; plan: Plan } | undefined;

function planOf(area: Area, options: PopulationOptions): Plan {
  // The same options come household after household: check the last plan without building a key.
  if (lastPlan && lastPlan.area === area && lastPlan.people === options.people && lastPlan.seed === options.seed && lastPlan.asOf === options.asOf) return lastPlan.plan;
  let byKey = planCache.get(area);
  if (!byKey) {
    byKey = new Map();
    planCache.set(area, byKey);
  }
  const key = `${options.people}:${options.seed}:${options.asOf}`;
  let plan = byKey.get(key);
  if (!plan) {
    checkOptions(area, options);
    plan = buildPlan(area, options);
    if (byKey.size >= 4) byKey.clear();
    byKey.set(key, plan);
  }
  lastPlan = { area, people: options.people, seed: options.seed, asOf: options.asOf, plan };
  return plan;
}

/** How many households a population of this size and seed has (for splitting work across workers). */
export function householdCount(area: Area, options: PopulationOptions): number {
  return planOf(area, options).count;
}

// ---------------------------------------------------------------------------------------------
// One household.

const ethnicityCache = new WeakMap<AreaLsoa, Partial<Record<AgeGroup, WeightedList<string>>>>();
function ethnicityList(lsoa: AreaLsoa, group: AgeGroup): WeightedList<string> {
  let byGroup = ethnicityCache.get(lsoa);
  if (!byGroup) {
    byGroup = {};
    ethnicityCache.set(lsoa, byGroup);
  }
  let list = byGroup[group];
  if (!list) {
    const { codes, weights } = ethnicityWeights(lsoa.lad, lsoa.council, group);
    list = new WeightedList(codes, weights);
    byGroup[group] = list;
  }
  return list;
}

const WHITE = new Set(['A', 'B', 'C']);
const BLACK_CARIBBEAN = new Set(['M', 'P']);
const ASIAN = new Set(['H', 'J', 'K', 'L', 'R']);

/** Ethnic category of a child of parents of two categories (NHS data dictionary mixed codes). */
export function childEthnicity(a: string, b: string): string {
  if (a === b) return a;
  const [white, other] = WHITE.has(a) ? [a, b] : WHITE.has(b) ? [b, a] : ['', ''];
  if (!white) return ['D', 'E', 'F', 'G'].includes(a) ? a : 'G';
  if (WHITE.has(other)) return white;
  if (BLACK_CARIBBEAN.has(other)) return 'D';
  if (other === 'N') return 'E';
  if (ASIAN.has(other)) return 'F';
  return 'G';
}

interface Person {
  role: Role;
  age: number;
  sex: Sex;
  group: AgeGroup;
}

function pickPractice(random: Random, district: AreaDistrict): AreaDistrict['practices'][number] {
  const weights = district.cumulativeWeights;
  const total = weights[weights.length - 1] as number;
  const target = random.next() * total;
  let lo = 0;
  let hi = weights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((weights[mid] as number) > target) hi = mid;
    else lo = mid + 1;
  }
  return district.practices[lo] as AreaDistrict['practices'][number];
}

function addressIn(random: Random, district: AreaDistrict, practice?: AreaDistrict['practices'][number]): Address {
  const p = practice ?? pickPractice(random, district);
  return { line: streetLine(random), town: p.town, postcode: `${p.outward} ${inwardCode(random)}` };
}

function givenNames(random: Random, sex: Sex, birthYear: number, ethnicity: string): string[] {
  const first = givenNameFor(random, sex, birthYear, ethnicity);
  if (!random.chance(0.6)) return [first];
  let middle = givenNameFor(random, sex, birthYear, ethnicity);
  if (middle === first) middle = givenNameFor(random, sex, birthYear - 20, ethnicity);
  return middle === first ? [first] : [first, middle];
}

const CONDITION_ONSET = CONDITIONS.map((c) => c.onset);
const CONDITION_KEYS: readonly ConditionKey[] = CONDITIONS.map((c) => c.key);

/** The residents of household `index` (0-based) of the population with these options. */
export function household(area: Area, options: PopulationOptions, index: number): Resident[] {
  const plan = planOf(area, options);
  if (!Number.isInteger(index) || index < 0 || index >= plan.count) throw new Error(`population: household index must be from 0 to ${plan.count - 1}, got ${index}`);
  const random = new Random(options.seed, index);
  const lsoa = area.lsoas[plan.lsoa[index] as number] as AreaLsoa;
  const district = area.districts.get(lsoa.district) as AreaDistrict;
  const quintile = quintileOf(lsoa.imdDecile);
  const { asOfDay, windowStart } = plan;
  const kind = plan.kind[index] as Kind;
  const rules = HOUSEHOLD_RULES;
  const start = plan.start[index] as number;
  const end = plan.start[index + 1] as number;

  const people: Person[] = [];
  for (let i = start; i < end; i++) {
    const a = plan.age[i] as number;
    people.push({ role: plan.role[i] as Role, age: a, sex: plan.sex[i] === 0 ? 'male' : 'female', group: a < 16 ? 'children' : a < 60 ? 'adults' : 'older' });
  }

  // Ethnicity: the first person's from the area; partners mostly the same; children from their parents.
  const head = people[0] as Person;
  const headEthnicity = ethnicityList(lsoa, head.group).pick(random);
  const ethnicities: string[] = [];
  let partnerEthnicity = headEthnicity;
  for (const p of people) {
    let e = headEthnicity;
    if (p === head) e = headEthnicity;
    else if (p.role === Role.Partner) {
      partnerEthnicity = random.chance(rules.interEthnicCoupleShare) ? ethnicityList(lsoa, p.group).pick(random) : headEthnicity;
      e = partnerEthnicity;
    } else if (p.role === Role.Sharer) e = ethnicityList(lsoa, p.group).pick(random);
    else if (p.role === Role.Child || p.role === Role.YoungAdult) e = childEthnicity(headEthnicity, partnerEthnicity);
    ethnicities.push(e);
  }

  // Surnames: a family name (the head's, or the father's), partners who took it, children's.
  const headFamily = surnameFor(random, headEthnicity, head.sex);
  let partnerIndex = -1;
  for (let i = 0; i < people.length; i++) if ((people[i] as Person).role === Role.Partner) partnerIndex = i;
  const partner = partnerIndex >= 0 ? people[partnerIndex] : undefined;
  const families: string[] = new Array<string>(people.length).fill(headFamily);
  const previous: ({ family: string; until: string } | undefined)[] = new Array<undefined>(people.length);
  let childFamily = headFamily;
  if (partner) {
    const partnerOwn = surnameFor(random, ethnicities[partnerIndex] as string, partner.sex);
    const married = partner.sex !== head.sex && random.chance(0.72);
    if (married) {
      // The woman usually took the man's name; sometimes (in the window) recently.
      const woman = head.sex === 'female' ? 0 : partnerIndex;
      const man = woman === 0 ? partnerIndex : 0;
      const manFamily = man === 0 ? headFamily : partnerOwn;
      const maiden = man === 0 ? partnerOwn : headFamily;
      families[woman] = manFamily;
      families[man] = manFamily;
      childFamily = manFamily;
      const womanAge = (people[woman] as (typeof people)[number]).age;
      if (womanAge >= 22 && womanAge <= 45 && random.chance(0.2)) {
        previous[woman] = { family: maiden, until: dateOfDay(random.int(windowStart, asOfDay - 30)) };
      }
    } else {
      families[partnerIndex] = partnerOwn;
      const father = head.sex === 'male' ? headFamily : partner.sex === 'male' ? partnerOwn : headFamily;
      const mother = head.sex === 'female' ? headFamily : partnerOwn;
      childFamily = father === mother ? father : random.chance(0.2) ? `${mother}-${father}` : father;
    }
  }
  for (let i = 0; i < people.length; i++) {
    const p = people[i] as Person;
    if (p.role === Role.Child || p.role === Role.YoungAdult) families[i] = childFamily;
    else if (p.role === Role.Sharer && i > 0) families[i] = surnameFor(random, ethnicities[i] as string, p.sex);
    else if (p.role === Role.Grandparent) families[i] = random.chance(0.5) ? headFamily : surnameFor(random, ethnicities[i] as string, p.sex);
  }

  // Address and practice: the household's, with a few registered elsewhere; some moved in the window.
  const practice = pickPractice(random, district);
  const address = addressIn(random, district, practice);
  let moved: { address: Address; until: number } | undefined;
  if (random.chance(rules.movedShare)) {
    moved = { address: addressIn(random, district), until: random.int(windowStart + 30, asOfDay - 30) };
  }

  const householdId = people.length > 1 ? `H${String(index).padStart(7, '0')}` : undefined;
  const residents: Resident[] = [];
  const birthDays: number[] = [];
  for (let i = 0; i < people.length; i++) {
    const p = people[i] as Person;
    const sequence = start + i;
    const birthDay = asOfDay - Math.floor((p.age + random.next()) * YEAR_DAYS);
    birthDays.push(birthDay);
    const ethnicity = ethnicities[i] as string;

    // Death in the window first (life table and deprivation); those who die were sicker and frailer.
    let deathDay: number | undefined;
    const deathDraw = random.next();
    const exposure = Math.min(WINDOW_YEARS, p.age + 0.5);
    const annual = deathProbability(p.sex, Math.max(0, p.age - exposure / 2), quintile);
    if (deathDraw < 1 - (1 - annual) ** exposure) {
      const from = Math.max(windowStart, birthDay + 1);
      deathDay = random.int(Math.min(from, asOfDay - 1), asOfDay - 1);
    }
    const endDay = deathDay ?? asOfDay;
    // Smoking, conditions and frailty as they were at the end: asOf, or the day they died.
    const age = Math.max(0, Math.floor((endDay - birthDay) / YEAR_DAYS));

    let smoking: SmokingStatus = 'never';
    const smokeDraw = random.next();
    if (age >= 16) {
      const s = smokingProbabilities(age, p.sex, quintile);
      smoking = smokeDraw < s.current ? 'current' : smokeDraw < s.current + s.ex ? 'ex' : 'never';
    }
    const shift = deathDay === undefined ? 0 : MORTALITY.decedentShift;
    const latent: LatentHealth = { general: random.normal(0, 1) + shift, cardiometabolic: random.normal(0, 1) + shift, mental: random.normal(0, 1) };
    const mask = conditionsPresent(p.sex, age, quintile, smoking, latent, random);
    const frailty: Frailty = frailtyOf(age, quintile, latent, random.normal(0, 1));

    const conditions: { key: ConditionKey; onset: string }[] = [];
    for (let k = 0; k < CONDITION_KEYS.length; k++) {
      const durationDraw = random.next();
      if (!(mask & (1 << k))) continue;
      const onset = CONDITION_ONSET[k] as { minAge: number; meanYears: number };
      const maxYears = Math.max(0, age - onset.minAge);
      const key = CONDITION_KEYS[k] as ConditionKey;
      // Years before the end since onset: exponential about the condition's mean, never before its
      // youngest age; a learning disability is recorded in early childhood.
      const years = key === 'learning_disability' ? Math.max(0, age - 1 - durationDraw * 4) : Math.min(maxYears, -onset.meanYears * Math.log(1 - durationDraw));
      const onsetDay = Math.min(endDay - 1, Math.max(birthDay + 1, endDay - Math.floor(years * YEAR_DAYS)));
      conditions.push({ key, onset: dateOfDay(onsetDay) });
    }

    const birthYear = civilOfDay(birthDay)[0];
    const resident: Resident = {
      id: `R${String(sequence).padStart(7, '0')}`,
      nhsNumber: nhsNumberFor(sequence, options.seed),
      given: givenNames(random, p.sex, birthYear, ethnicity),
      family: families[i] as string,
      sex: p.sex,
      birthDate: dateOfDay(birthDay),
      address: moved && deathDay !== undefined && deathDay < moved.until ? moved.address : address,
      lsoa: lsoa.code,
      lad: lsoa.lad,
      imdDecile: lsoa.imdDecile,
      council: lsoa.council,
      ethnicity,
      practice: random.chance(rules.ownPracticeShare) ? pickPractice(random, district).code : practice.code,
      smoking,
      frailty,
      conditions,
    };
    const prev = previous[i];
    if (prev && prev.until < dateOfDay(endDay)) resident.previousFamily = prev;
    if (deathDay !== undefined) resident.deathDate = dateOfDay(deathDay);
    if (moved && birthDay < moved.until && endDay > moved.until) resident.previousAddress = { address: moved.address, until: dateOfDay(moved.until) };
    if (householdId) resident.household = householdId;
    residents.push(resident);
  }

  // Children under 16 living with their mother.
  if (kind === Kind.Family) {
    const windowStartDate = dateOfDay(windowStart);
    let mother: Resident | undefined;
    let motherIndex = -1;
    for (let i = 0; i < people.length && !mother; i++) {
      const p = people[i] as Person;
      if ((p.role === Role.Head || p.role === Role.Partner) && p.sex === 'female') {
        mother = residents[i];
        motherIndex = i;
      }
    }
    if (mother) {
      for (let i = 0; i < people.length; i++) {
        const r = residents[i] as Resident;
        // Only a woman of a plausible age to be their mother (16 to 50 years older) is recorded as such.
        const gap = ((birthDays[i] as number) - (birthDays[motherIndex] as number)) / YEAR_DAYS;
        if ((people[i] as Person).role === Role.Child && gap >= 16 && gap <= 50) {
          r.mother = mother.id;
          // A mother drawn to die before her child's birth lives on instead (rare).
          if (mother.deathDate !== undefined && mother.deathDate <= r.birthDate) delete mother.deathDate;
          // Born in the window: the mother's delivery (history.ts) matches the baby's birth.
          if (r.birthDate >= windowStartDate) (mother.births ??= []).push(r.birthDate);
        }
      }
      mother.births?.sort();
    }
  }
  return residents;
}

/** A resident's place in their household; the first member is the head. */
export type HouseholdRole = 'head' | 'partner' | 'child' | 'young-adult' | 'grandparent' | 'sharer';
const ROLE_NAMES: readonly HouseholdRole[] = ['head', 'partner', 'child', 'young-adult', 'grandparent', 'sharer'];

/**
 * The roles of household `index`'s residents, in the order `household` returns them (from the
 * plan alone: no draws). A partner is the head's; children and young adults are the head's (and
 * the partner's); a grandparent is a parent of the head or partner; sharers are not related.
 */
export function householdRoles(area: Area, options: PopulationOptions, index: number): HouseholdRole[] {
  const plan = planOf(area, options);
  if (!Number.isInteger(index) || index < 0 || index >= plan.count) throw new Error(`population: household index must be from 0 to ${plan.count - 1}, got ${index}`);
  const roles: HouseholdRole[] = [];
  for (let i = plan.start[index] as number; i < (plan.start[index + 1] as number); i++) roles.push(ROLE_NAMES[plan.role[i] as Role] as HouseholdRole);
  return roles;
}

/** Every household of the population in order; exactly `options.people` residents in all. */
export function* households(area: Area, options: PopulationOptions): Generator<Resident[]> {
  const plan = planOf(area, options);
  for (let i = 0; i < plan.count; i++) yield household(area, options, i);
}

/** Age in whole years on a date (YYYY-MM-DD strings). */
export function ageOn(birthDate: string, date: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

