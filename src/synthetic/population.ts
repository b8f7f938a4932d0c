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
  annualDeathProbability,
  conditionsPresent,
  ethnicityWeights,
  frailtyOf,
  individualDeathProbability,
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

/** Household kinds (the roles of their members follow from the kind and the counts). */
const enum Kind {
  Family = 0,
  OlderCouple = 1,
  OlderAlone = 2,
  OlderWithAdultChild = 3,
  AdultAlone = 4,
  AdultCouple = 5,
  AdultSharing = 6,
}

interface Plan {
  count: number;
  lsoa: Uint32Array;
  kind: Uint8Array;
  children: Uint8Array;
  /** Adults 16–59: parents, or the whole household when there are no children. */
  adults: Uint8Array;
  /** Young adults (16–24) living with their parents. */
  young: Uint8Array;
  older: Uint8Array;
  /** Sequence number of each household's first resident. */
  start: Uint32Array;
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

const planCache = new WeakMap<Area, Map<string, Plan>>();

function buildPlan(area: Area, options: PopulationOptions): Plan {
  const { people } = options;
  const random = new Random(options.seed, PLAN_STREAM);
  const rules = HOUSEHOLD_RULES;
  const perLsoa = largestRemainder(
    people,
    area.lsoas.map((l) => l.children + l.adults + l.older),
  );
  // Upper bound of households: one per person.
  const lsoaOf = new Uint32Array(people);
  const kind = new Uint8Array(people);
  const children = new Uint8Array(people);
  const adults = new Uint8Array(people);
  const young = new Uint8Array(people);
  const older = new Uint8Array(people);
  let n = 0;
  const push = (l: number, k: Kind, c: number, a: number, o: number, y = 0): void => {
    lsoaOf[n] = l;
    kind[n] = k;
    children[n] = c;
    adults[n] = a;
    older[n] = o;
    young[n] = y;
    n += 1;
  };
  const childrenCounts = new WeightedList(rules.childrenPerFamily.counts, rules.childrenPerFamily.weights);
  const olderCoupleDraw = rules.olderLiveInCoupleShare / (2 - rules.olderLiveInCoupleShare);
  const adultKinds = new WeightedList([Kind.AdultAlone, Kind.AdultCouple, Kind.AdultSharing], [rules.adultsAlone, rules.adultsCouple, rules.adultsSharing]);

  area.lsoas.forEach((lsoa, l) => {
    const total = perLsoa[l] as number;
    if (total === 0) return;
    let [c, a, o] = largestRemainder(total, [lsoa.children * GROUP_INFLATION.children, lsoa.adults * GROUP_INFLATION.adults, lsoa.older * GROUP_INFLATION.older]) as [number, number, number];
    // Families with dependent children; some with a young adult child still at home, a few with a grandparent.
    let lastFamily = -1;
    while (c > 0) {
      const kids = Math.min(c, childrenCounts.pick(random));
      const parents = a >= 2 && !random.chance(rules.loneParentShare) ? 2 : Math.min(a, 1);
      let grandparent = o > 0 && random.chance(rules.grandparentInFamilyShare) ? 1 : 0;
      if (parents === 0 && grandparent === 0) {
        if (o > 0) grandparent = 1;
        else if (lastFamily >= 0) {
          // No adults left in this LSOA: the children join the last family.
          children[lastFamily] = Math.min(255, (children[lastFamily] as number) + kids);
          c -= kids;
          continue;
        } else break;
      }
      const youngAdult = a - parents >= 1 && random.chance(rules.youngAdultAtHomeShare) ? 1 : 0;
      c -= kids;
      a -= parents + youngAdult;
      o -= grandparent;
      lastFamily = n;
      push(l, Kind.Family, kids, parents, grandparent, youngAdult);
    }
    while (o > 0) {
      if (o >= 2 && random.chance(olderCoupleDraw)) {
        push(l, Kind.OlderCouple, 0, 0, 2);
        o -= 2;
      } else if (a > 0 && random.chance(rules.olderWithAdultChildShare)) {
        push(l, Kind.OlderWithAdultChild, 0, 1, 1);
        o -= 1;
        a -= 1;
      } else {
        push(l, Kind.OlderAlone, 0, 0, 1);
        o -= 1;
      }
    }
    while (a > 0) {
      let k = adultKinds.pick(random);
      if (k === Kind.AdultSharing && a < 3) k = a === 2 ? Kind.AdultCouple : Kind.AdultAlone;
      if (k === Kind.AdultCouple && a < 2) k = Kind.AdultAlone;
      const size = k === Kind.AdultAlone ? 1 : k === Kind.AdultCouple ? 2 : Math.min(a, random.chance(0.6) ? 3 : 4);
      push(l, k, 0, size, 0);
      a -= size;
    }
  });
  const start = new Uint32Array(n);
  let running = 0;
  for (let i = 0; i < n; i++) {
    start[i] = running;
    running += (children[i] as number) + (adults[i] as number) + (young[i] as number) + (older[i] as number);
  }
  if (running !== people) throw new Error(`population plan: ${running} residents planned for ${people}`);
  const asOfDay = dayOf(options.asOf, 'asOf');
  return { asOfDay, windowStart: asOfDay - Math.round(WINDOW_YEARS * YEAR_DAYS), count: n, lsoa: lsoaOf.slice(0, n), kind: kind.slice(0, n), children: children.slice(0, n), adults: adults.slice(0, n), young: young.slice(0, n), older: older.slice(0, n), start };
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
  role: Member['role'];
  age: number;
  sex: Sex;
  group: AgeGroup;
}

/** A partner's sex: the other, or (in a few couples) the same. */
function partnerSex(random: Random, sex: Sex): Sex {
  return random.chance(HOUSEHOLD_RULES.sameSexCoupleShare) ? sex : sex === 'male' ? 'female' : 'male';
}

interface Member {
  role: 'parent' | 'child' | 'young_adult' | 'grandparent' | 'partner' | 'single' | 'sharer';
  age: number;
  sex: Sex;
  ethnicity: string;
  family: string;
  previousFamily?: { family: string; until: string };
  given: string[];
}

/** An age and sex of the group, within [minAge, maxAge] and of `sex` when given (a few tries, then the nearest). */
function drawAgeSex(random: Random, group: AgeGroup, minAge: number, maxAge: number, sex?: Sex): AgeSex {
  const list = AGE_SEX_BY_GROUP.get(group) as WeightedList<AgeSex>;
  let draw = list.pick(random);
  for (let i = 0; i < 40; i++) {
    if (draw.age >= minAge && draw.age <= maxAge && (sex === undefined || draw.sex === sex)) return draw;
    draw = list.pick(random);
  }
  const [from, to] = AGE_GROUP_RANGE[group];
  const age = Math.min(to, Math.max(from, Math.min(maxAge, Math.max(minAge, draw.age))));
  return { age, sex: sex ?? draw.sex };
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
  const nChildren = plan.children[index] as number;
  const nAdults = plan.adults[index] as number;
  const nYoung = plan.young[index] as number;
  const nOlder = plan.older[index] as number;
  const rules = HOUSEHOLD_RULES;

  // Who lives here: roles, ages and sexes.
  const people: Person[] = [];
  const add = (role: Member['role'], group: AgeGroup, draw: AgeSex): void => void people.push({ role, age: draw.age, sex: draw.sex, group });
  switch (kind) {
    case Kind.Family: {
      if (nAdults >= 1) {
        // Nine lone parents in ten are mothers (ONS, Families and households 2023).
        const loneSex: Sex | undefined = nAdults === 1 ? (random.chance(0.9) ? 'female' : 'male') : undefined;
        const first = drawAgeSex(random, 'adults', 19, 59, loneSex);
        add('parent', 'adults', first);
        if (nAdults === 2) add('partner', 'adults', drawAgeSex(random, 'adults', Math.max(19, first.age - 8), first.age + 8, partnerSex(random, first.sex)));
      }
      const anchor = people[0];
      for (let k = 0; k < nYoung; k++) add('young_adult', 'adults', drawAgeSex(random, 'adults', anchor ? Math.max(16, anchor.age - 45) : 16, anchor ? Math.min(24, anchor.age - 18) : 24));
      for (let k = 0; k < nOlder; k++) add('grandparent', 'older', drawAgeSex(random, 'older', anchor ? anchor.age + 18 : 60, anchor ? anchor.age + 45 : 104));
      // Children are 17 to 46 years younger than each of their parents.
      let youngest = 200;
      let oldest = -1;
      for (const p of people) {
        if (p.role !== 'parent' && p.role !== 'partner') continue;
        youngest = Math.min(youngest, p.age);
        oldest = Math.max(oldest, p.age);
      }
      for (let k = 0; k < nChildren; k++) add('child', 'children', drawAgeSex(random, 'children', oldest >= 0 ? oldest - 46 : 0, oldest >= 0 ? youngest - 17 : 15));
      break;
    }
    case Kind.OlderCouple: {
      const first = drawAgeSex(random, 'older', 60, 104);
      add('single', 'older', first);
      add('partner', 'older', drawAgeSex(random, 'older', first.age - 8, first.age + 8, partnerSex(random, first.sex)));
      break;
    }
    case Kind.OlderAlone:
      add('single', 'older', drawAgeSex(random, 'older', 60, 104));
      break;
    case Kind.OlderWithAdultChild: {
      const parent = drawAgeSex(random, 'older', 60, 104);
      add('single', 'older', parent);
      add('young_adult', 'adults', drawAgeSex(random, 'adults', parent.age - 45, parent.age - 18));
      break;
    }
    case Kind.AdultAlone:
      add('single', 'adults', drawAgeSex(random, 'adults', 18, 59));
      break;
    case Kind.AdultCouple: {
      const first = drawAgeSex(random, 'adults', 18, 59);
      add('single', 'adults', first);
      add('partner', 'adults', drawAgeSex(random, 'adults', Math.max(18, first.age - 10), first.age + 10, partnerSex(random, first.sex)));
      break;
    }
    case Kind.AdultSharing:
      for (let k = 0; k < nAdults; k++) add('sharer', 'adults', drawAgeSex(random, 'adults', 18, 45));
      break;
  }

  // Ethnicity: the first person's from the area; partners mostly the same; children from their parents.
  const head = people[0] as Person;
  const headEthnicity = ethnicityList(lsoa, head.group).pick(random);
  const ethnicities: string[] = [];
  let partnerEthnicity = headEthnicity;
  for (const p of people) {
    let e = headEthnicity;
    if (p === head) e = headEthnicity;
    else if (p.role === 'partner') {
      partnerEthnicity = random.chance(rules.interEthnicCoupleShare) ? ethnicityList(lsoa, p.group).pick(random) : headEthnicity;
      e = partnerEthnicity;
    } else if (p.role === 'sharer') e = ethnicityList(lsoa, p.group).pick(random);
    else if (p.role === 'child' || p.role === 'young_adult') e = childEthnicity(headEthnicity, partnerEthnicity);
    ethnicities.push(e);
  }

  // Surnames: a family name (the head's, or the father's), partners who took it, children's.
  const headFamily = surnameFor(random, headEthnicity, head.sex);
  let partnerIndex = -1;
  for (let i = 0; i < people.length; i++) if ((people[i] as Person).role === 'partner') partnerIndex = i;
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
    if (p.role === 'child' || p.role === 'young_adult') families[i] = childFamily;
    else if (p.role === 'sharer' && i > 0) families[i] = surnameFor(random, ethnicities[i] as string, p.sex);
    else if (p.role === 'grandparent') families[i] = random.chance(0.5) ? headFamily : surnameFor(random, ethnicities[i] as string, p.sex);
  }

  // Address and practice: the household's, with a few registered elsewhere; some moved in the window.
  const practice = pickPractice(random, district);
  const address = addressIn(random, district, practice);
  let moved: { address: Address; until: number } | undefined;
  if (random.chance(rules.movedShare)) {
    moved = { address: addressIn(random, district), until: random.int(windowStart + 30, asOfDay - 30) };
  }

  const start = plan.start[index] as number;
  const householdId = people.length > 1 ? `H${String(index).padStart(7, '0')}` : undefined;
  const residents: Resident[] = [];
  for (let i = 0; i < people.length; i++) {
    const p = people[i] as Person;
    const sequence = start + i;
    const birthDay = asOfDay - Math.floor((p.age + random.next()) * YEAR_DAYS);
    const ethnicity = ethnicities[i] as string;

    let smoking: SmokingStatus = 'never';
    const smokeDraw = random.next();
    if (p.age >= 16) {
      const s = smokingProbabilities(p.age, p.sex, quintile);
      smoking = smokeDraw < s.current ? 'current' : smokeDraw < s.current + s.ex ? 'ex' : 'never';
    }
    const latent: LatentHealth = { general: random.normal(0, 1), cardiometabolic: random.normal(0, 1), mental: random.normal(0, 1) };
    const mask = conditionsPresent(p.sex, p.age, quintile, smoking, latent, random);
    const frailty: Frailty = frailtyOf(p.age, quintile, latent, random.normal(0, 1));

    // Death in the window, from their own risk; the day is uniform over the time they were alive in it.
    let deathDay: number | undefined;
    const deathDraw = random.next();
    const exposure = Math.min(WINDOW_YEARS, p.age + 0.5);
    const annual = individualDeathProbability(p.sex, Math.max(0, p.age - exposure / 2), quintile, frailty, mask);
    if (deathDraw < 1 - (1 - annual) ** exposure) {
      const from = Math.max(windowStart, birthDay + 1);
      deathDay = random.int(Math.min(from, asOfDay - 1), asOfDay - 1);
    }
    const endDay = deathDay ?? asOfDay;

    const conditions: { key: ConditionKey; onset: string }[] = [];
    for (let k = 0; k < CONDITION_KEYS.length; k++) {
      const durationDraw = random.next();
      if (!(mask & (1 << k))) continue;
      const onset = CONDITION_ONSET[k] as { minAge: number; meanYears: number };
      const maxYears = Math.max(0, p.age - onset.minAge);
      const key = CONDITION_KEYS[k] as ConditionKey;
      // Years since onset: exponential about the condition's mean, never before its youngest age.
      const years = key === 'learning_disability' ? Math.max(0, p.age - 1 - durationDraw * 4) : Math.min(maxYears, -onset.meanYears * Math.log(1 - durationDraw));
      const onsetDay = Math.min(endDay - 1, Math.max(birthDay + 1, asOfDay - Math.floor(years * YEAR_DAYS)));
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
    let mother: Resident | undefined;
    for (let i = 0; i < people.length && !mother; i++) {
      const p = people[i] as Person;
      if ((p.role === 'parent' || p.role === 'partner') && p.sex === 'female') mother = residents[i];
    }
    if (mother) {
      for (let i = 0; i < people.length; i++) {
        const r = residents[i] as Resident;
        if ((people[i] as Person).role === 'child' && r.birthDate > mother.birthDate) r.mother = mother.id;
      }
    }
  }
  return residents;
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

