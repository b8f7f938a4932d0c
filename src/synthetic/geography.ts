/**
 * The area a synthetic population lives in: an ICB's LSOAs (with their IMD 2019 decile and
 * population by age group), its districts and their GP practices, and the organisations that
 * serve each district. Built from real data only: NHS England's practice files (through
 * `structure/reference-data.ts`) and the IMD 2019 files 1 and 6 in `reference-data/`.
 *
 * Which LSOAs belong to an ICB: those whose local authority district is a district of the ICB's
 * practices. Two vintages meet here: the practice file has 2021 districts (LAD21), the IMD files
 * 2019 districts (LAD19). Between them Buckinghamshire (2020) and North and West Northamptonshire
 * (2021) were made from older districts, so `LAD19_TO_LAD21` maps those. A district whose
 * practices sit in more than one ICB (e.g. East Suffolk, Barnet) goes wholly to the ICB holding
 * most of its practices' list size, so every LSOA belongs to exactly one ICB.
 *
 * For S2 and S3: the organisations that serve a resident depend on their district. Read them
 * with `acuteTrustFor(organisations, resident.lad, random)`, `communityTrustFor`,
 * `mentalHealthTrustFor`, `ambulanceTrustFor` and `councilFor` below (data in
 * `AreaOrganisations.districts`), not the area-wide fields, which are only the largest.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { type PracticeRecord, allPractices } from '../structure/reference-data.js';
import { cleanAreaName } from '../structure/skeleton.js';
import type { AreaOrganisations, DistrictOrganisations } from './model.js';
import type { Random } from './random.js';

const DIR = new URL('./reference-data/', import.meta.url);

/** 2019 districts merged into the unitary councils created in 2020 and 2021. */
export const LAD19_TO_LAD21: Readonly<Record<string, string>> = {
  // Buckinghamshire Council (1 April 2020): Aylesbury Vale, Chiltern, South Bucks, Wycombe.
  E07000004: 'E06000060',
  E07000005: 'E06000060',
  E07000006: 'E06000060',
  E07000007: 'E06000060',
  // North Northamptonshire (1 April 2021): Corby, East Northamptonshire, Kettering, Wellingborough.
  E07000150: 'E06000061',
  E07000152: 'E06000061',
  E07000153: 'E06000061',
  E07000156: 'E06000061',
  // West Northamptonshire (1 April 2021): Daventry, Northampton, South Northamptonshire.
  E07000151: 'E06000062',
  E07000154: 'E06000062',
  E07000155: 'E06000062',
};

export interface AreaLsoa {
  /** LSOA 2011 code. */
  code: string;
  /** Local authority district, 2019 code (as in the IMD files and `Resident.lad`). */
  lad: string;
  /** The same district's 2021 code (as in the practice file); equal to `lad` unless merged. */
  district: string;
  /** Upper-tier council (social care authority) ONS code. */
  council: string;
  /** IMD 2019 decile, 1 = most deprived 10% of England's LSOAs. */
  imdDecile: number;
  /** Mid-2015 population (IMD file 6): aged 0–15, 16–59, 60 and over. */
  children: number;
  adults: number;
  older: number;
}

export interface AreaPractice {
  code: string;
  name: string;
  postcode: string;
  /** Outward code of the practice's postcode, e.g. "WR11". */
  outward: string;
  /** Post town of that outward code, e.g. "Evesham". */
  town: string;
  /** Weight for registering new residents: the 2025/26 population; 0 for practices closed since. */
  weight: number;
}

export interface AreaDistrict {
  /** 2021 district code. */
  code: string;
  name: string;
  council: { code: string; name: string };
  /** The district's practices (residents of the district register with one of these). */
  practices: AreaPractice[];
  /** Running totals of the practices' weights, for a quick weighted pick. */
  cumulativeWeights: number[];
}

export interface Area {
  icb: { code: string; name: string; region: string };
  organisations: AreaOrganisations;
  lsoas: AreaLsoa[];
  /** Districts by 2021 code. */
  districts: Map<string, AreaDistrict>;
  /** Total of the LSOAs' populations. */
  population: number;
}

// ---------------------------------------------------------------------------------------------
// IMD files: parsed once per process.

interface NationalLsoa {
  code: string;
  lad: string;
  imdDecile: number;
  children: number;
  adults: number;
  older: number;
}

let nationalCache: NationalLsoa[] | undefined;

function readCsv(file: string): string[][] {
  const text = gunzipSync(fs.readFileSync(new URL(file, DIR))).toString('utf8');
  const rows: string[][] = parse(text, { bom: true, skip_empty_lines: true, from_line: 2 });
  return rows;
}

const count = (value: string | undefined): number => Number((value ?? '').replace(/,/g, ''));

/** Every LSOA in England with its district, IMD decile and population by age group. */
export function nationalLsoas(): NationalLsoa[] {
  if (nationalCache) return nationalCache;
  const population = new Map<string, string[]>();
  for (const row of readCsv('imd2019-lsoa-file6-population.csv.gz')) population.set(row[0] ?? '', row);
  const lsoas: NationalLsoa[] = [];
  for (const row of readCsv('imd2019-lsoa-file1-index.csv.gz')) {
    const code = row[0] ?? '';
    const pop = population.get(code);
    if (!pop) throw new Error(`IMD file 6 has no population for LSOA ${code}`);
    lsoas.push({ code, lad: row[2] ?? '', imdDecile: count(row[5]), children: count(pop[5]), adults: count(pop[6]), older: count(pop[7]) });
  }
  nationalCache = lsoas;
  return lsoas;
}

// ---------------------------------------------------------------------------------------------
// Organisations.

type Org = { code: string; name: string };

const AMBULANCE: Record<string, Org> = {
  RX6: { code: 'RX6', name: 'North East Ambulance Service NHS Foundation Trust' },
  RX7: { code: 'RX7', name: 'North West Ambulance Service NHS Trust' },
  RX8: { code: 'RX8', name: 'Yorkshire Ambulance Service NHS Trust' },
  RX9: { code: 'RX9', name: 'East Midlands Ambulance Service NHS Trust' },
  RYA: { code: 'RYA', name: 'West Midlands Ambulance Service University NHS Foundation Trust' },
  RYC: { code: 'RYC', name: 'East of England Ambulance Service NHS Trust' },
  RRU: { code: 'RRU', name: 'London Ambulance Service NHS Trust' },
  RYD: { code: 'RYD', name: 'South East Coast Ambulance Service NHS Foundation Trust' },
  RYE: { code: 'RYE', name: 'South Central Ambulance Service NHS Foundation Trust' },
  RYF: { code: 'RYF', name: 'South Western Ambulance Service NHS Foundation Trust' },
  R1F: { code: 'R1F', name: 'Isle of Wight NHS Trust' },
};

/**
 * The ambulance service of each ICB. The NHS regions do not match the ambulance services
 * (Midlands has two, North East and Yorkshire two, South East two), so this is by ICB.
 */
const AMBULANCE_BY_ICB: Record<string, string> = {
  QHM: 'RX6',
  QOP: 'RX7', QYG: 'RX7', QE1: 'RX7',
  QOQ: 'RX8', QF7: 'RX8', QWO: 'RX8',
  QJ2: 'RX9', QT1: 'RX9', QK1: 'RX9', QJM: 'RX9', QPM: 'RX9',
  QHL: 'RYA', QUA: 'RYA', QWU: 'RYA', QGH: 'RYA', QNC: 'RYA', QOC: 'RYA',
  QUE: 'RYC', QM7: 'RYC', QMM: 'RYC', QJG: 'RYC', QH8: 'RYC', QHG: 'RYC',
  QMJ: 'RRU', QMF: 'RRU', QRV: 'RRU', QKK: 'RRU', QWE: 'RRU',
  QNX: 'RYD', QKS: 'RYD', QXU: 'RYD',
  QU9: 'RYE', QRL: 'RYE', QNQ: 'RYE',
  QOX: 'RYF', QUY: 'RYF', QT6: 'RYF', QJK: 'RYF', QVV: 'RYF', QR1: 'RYF', QSL: 'RYF',
};

/** Where a council's area is served by another ambulance service than the rest of its ICB. */
const AMBULANCE_BY_COUNCIL: Record<string, string> = {
  E10000006: 'RX7', // Cumbria (North Cumbria is in QHM but served by North West Ambulance Service)
  E10000030: 'RYD', // Surrey (Surrey Heath and Farnham are in Frimley ICB)
  E06000046: 'R1F', // Isle of Wight: the Isle of Wight NHS Trust runs its ambulance service
};

/** Real names of councils whose name is not "<area> Council" / "<county> County Council". */
const COUNCIL_NAMES: Record<string, string> = {
  E06000019: 'Herefordshire Council',
  E10000034: 'Worcestershire County Council',
};

function councilName(code: string, upperTierName: string): string {
  const known = COUNCIL_NAMES[code];
  if (known) return known;
  return code.startsWith('E10') ? `${cleanAreaName(upperTierName)} County Council` : `${cleanAreaName(upperTierName)} Council`;
}

/**
 * Herefordshire and Worcestershire's real partners. Acute shares by district are illustrative
 * (the repository holds no hospital activity data): Herefordshire residents mostly use Wye Valley
 * (Hereford County Hospital), Worcestershire residents mostly Worcestershire Acute (Worcester,
 * Redditch, Kidderminster); Malvern Hills, nearest Hereford, more often Wye Valley. Flows to
 * trusts outside the area (Gloucestershire, Birmingham, Shropshire) are not modelled.
 */
const QGH_TRUSTS = {
  wyeValley: { code: 'RLQ', name: 'Wye Valley NHS Trust' },
  worcsAcute: { code: 'RWP', name: 'Worcestershire Acute Hospitals NHS Trust' },
  healthAndCare: { code: 'R1A', name: 'Herefordshire and Worcestershire Health and Care NHS Trust' },
};
const HEREFORDSHIRE = 'E06000019';
const MALVERN_HILLS = 'E07000235';

function qghDistrict(district: string, council: Org, ambulance: Org): DistrictOrganisations {
  const { wyeValley, worcsAcute, healthAndCare } = QGH_TRUSTS;
  if (district === HEREFORDSHIRE) {
    return {
      acuteTrusts: [{ ...wyeValley, share: 0.92 }, { ...worcsAcute, share: 0.08 }],
      // Wye Valley provides community services in Herefordshire; mental health is the Health and Care Trust's.
      communityTrust: wyeValley,
      mentalHealthTrust: healthAndCare,
      ambulanceTrust: ambulance,
      council,
    };
  }
  const wye = district === MALVERN_HILLS ? 0.15 : 0.04;
  return {
    acuteTrusts: [{ ...worcsAcute, share: 1 - wye }, { ...wyeValley, share: wye }],
    communityTrust: healthAndCare,
    mentalHealthTrust: healthAndCare,
    ambulanceTrust: ambulance,
    council,
  };
}

/** Share of a council's residents who use "their" placeholder acute trust; the rest use the others. */
const OWN_PLACEHOLDER_SHARE = 0.85;

/**
 * Placeholder trusts for ICBs other than QGH: the repository holds no data on which trusts serve
 * which areas, so each upper-tier council's area gets one clearly labelled placeholder acute
 * trust, and the ICB one placeholder community and mental health trust. Their codes
 * ("<ICB>-ACUTE-1", "<ICB>-CMH") are not ODS codes and cannot clash with one.
 */
function placeholderDistricts(icb: { code: string; name: string }, districts: Map<string, AreaDistrict>, populationOf: Map<string, number>, ambulanceOf: (council: string) => Org): Map<string, DistrictOrganisations> {
  const councils = new Map<string, { council: Org; population: number }>();
  for (const d of districts.values()) {
    const entry = councils.get(d.council.code) ?? { council: d.council, population: 0 };
    entry.population += populationOf.get(d.code) ?? 0;
    councils.set(d.council.code, entry);
  }
  const ordered = [...councils.values()].sort((a, b) => b.population - a.population || a.council.code.localeCompare(b.council.code));
  const acuteOf = new Map<string, Org>();
  ordered.forEach((c, i) => {
    acuteOf.set(c.council.code, { code: `${icb.code}-ACUTE-${i + 1}`, name: `Placeholder acute trust for ${c.council.name.replace(/ (County )?Council$/, '')} (${icb.code})` });
  });
  const community = { code: `${icb.code}-CMH`, name: `Placeholder community and mental health trust (${icb.code})` };
  const total = ordered.reduce((s, c) => s + c.population, 0);
  const result = new Map<string, DistrictOrganisations>();
  for (const d of districts.values()) {
    const own = acuteOf.get(d.council.code) as Org;
    const others = ordered.filter((c) => c.council.code !== d.council.code);
    const othersTotal = total - (councils.get(d.council.code)?.population ?? 0);
    const ownShare = others.length === 0 || othersTotal <= 0 ? 1 : OWN_PLACEHOLDER_SHARE;
    const acuteTrusts = [{ ...own, share: ownShare }];
    for (const c of others) {
      if (ownShare === 1) break;
      acuteTrusts.push({ ...(acuteOf.get(c.council.code) as Org), share: ((1 - ownShare) * c.population) / othersTotal });
    }
    result.set(d.code, { acuteTrusts, communityTrust: community, mentalHealthTrust: community, ambulanceTrust: ambulanceOf(d.council.code), council: d.council });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Post towns.

/** Post town of each postcode area (the letters of the outward code) in and around England. */
const POST_TOWN_BY_AREA: Record<string, string> = {
  AL: 'St Albans', B: 'Birmingham', BA: 'Bath', BB: 'Blackburn', BD: 'Bradford', BH: 'Bournemouth', BL: 'Bolton',
  BN: 'Brighton', BR: 'Bromley', BS: 'Bristol', CA: 'Carlisle', CB: 'Cambridge', CH: 'Chester', CM: 'Chelmsford',
  CO: 'Colchester', CR: 'Croydon', CT: 'Canterbury', CV: 'Coventry', CW: 'Crewe', DA: 'Dartford', DE: 'Derby',
  DH: 'Durham', DL: 'Darlington', DN: 'Doncaster', DT: 'Dorchester', DY: 'Dudley', E: 'London', EC: 'London',
  EN: 'Enfield', EX: 'Exeter', FY: 'Blackpool', GL: 'Gloucester', GU: 'Guildford', HA: 'Harrow', HD: 'Huddersfield',
  HG: 'Harrogate', HP: 'Hemel Hempstead', HR: 'Hereford', HU: 'Hull', HX: 'Halifax', IG: 'Ilford', IP: 'Ipswich',
  KT: 'Kingston upon Thames', L: 'Liverpool', LA: 'Lancaster', LD: 'Llandrindod Wells', LE: 'Leicester', LN: 'Lincoln',
  LS: 'Leeds', LU: 'Luton', M: 'Manchester', ME: 'Rochester', MK: 'Milton Keynes', N: 'London', NE: 'Newcastle upon Tyne',
  NG: 'Nottingham', NN: 'Northampton', NP: 'Newport', NR: 'Norwich', NW: 'London', OL: 'Oldham', OX: 'Oxford',
  PE: 'Peterborough', PL: 'Plymouth', PO: 'Portsmouth', PR: 'Preston', RG: 'Reading', RH: 'Redhill', RM: 'Romford',
  S: 'Sheffield', SE: 'London', SG: 'Stevenage', SK: 'Stockport', SL: 'Slough', SM: 'Sutton', SN: 'Swindon',
  SO: 'Southampton', SP: 'Salisbury', SR: 'Sunderland', SS: 'Southend-on-Sea', ST: 'Stoke-on-Trent', SW: 'London',
  SY: 'Shrewsbury', TA: 'Taunton', TD: 'Berwick-upon-Tweed', TF: 'Telford', TN: 'Tonbridge', TQ: 'Torquay', TR: 'Truro',
  TS: 'Middlesbrough', TW: 'Twickenham', UB: 'Southall', W: 'London', WA: 'Warrington', WC: 'London', WD: 'Watford',
  WF: 'Wakefield', WN: 'Wigan', WR: 'Worcester', WS: 'Walsall', WV: 'Wolverhampton', YO: 'York',
};

/** Post towns of Herefordshire and Worcestershire's outward codes, where not the area's town. */
const POST_TOWN_BY_OUTWARD: Record<string, string> = {
  DY9: 'Stourbridge', GL20: 'Tewkesbury',
  B60: 'Bromsgrove', B61: 'Bromsgrove', B96: 'Redditch', B97: 'Redditch', B98: 'Redditch',
  DY10: 'Kidderminster', DY11: 'Kidderminster', DY12: 'Bewdley', DY13: 'Stourport-on-Severn', DY14: 'Kidderminster',
  WR6: 'Worcester', WR7: 'Worcester', WR8: 'Worcester', WR9: 'Droitwich', WR10: 'Pershore', WR11: 'Evesham', WR12: 'Broadway',
  WR13: 'Malvern', WR14: 'Malvern', WR15: 'Tenbury Wells',
  HR5: 'Kington', HR6: 'Leominster', HR7: 'Bromyard', HR8: 'Ledbury', HR9: 'Ross-on-Wye',
};

export function postTown(outward: string): string {
  const known = POST_TOWN_BY_OUTWARD[outward];
  if (known) return known;
  const area = /^[A-Z]+/.exec(outward)?.[0] ?? '';
  return POST_TOWN_BY_AREA[area] ?? cleanAreaName(area);
}

// ---------------------------------------------------------------------------------------------
// The area.

const listSize = (p: PracticeRecord): number => p.population ?? p.registeredPatients ?? 0;

/** The ICB each 2021 district belongs to: the one holding most of its practices' list size. */
function icbOfDistricts(): Map<string, string> {
  const byDistrict = new Map<string, Map<string, number>>();
  for (const p of allPractices()) {
    const byIcb = byDistrict.get(p.ladCode) ?? new Map<string, number>();
    byIcb.set(p.icbCode, (byIcb.get(p.icbCode) ?? 0) + listSize(p));
    byDistrict.set(p.ladCode, byIcb);
  }
  const result = new Map<string, string>();
  for (const [district, byIcb] of byDistrict) {
    const best = [...byIcb.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    if (best) result.set(district, best[0]);
  }
  return result;
}

const areaCache = new Map<string, Area>();

/**
 * The area of an ICB (code as in NHS England's data, e.g. "QGH"). Built once per process per ICB;
 * treat the result as read-only. Throws when the code is not an ICB in the practice file.
 */
export function loadArea(icb: string): Area {
  const code = icb.trim().toUpperCase();
  const cached = areaCache.get(code);
  if (cached) return cached;
  const practices = allPractices();
  const own = practices.filter((p) => p.icbCode === code);
  const first = own[0];
  if (!first) throw new Error(`Unknown ICB code ${JSON.stringify(icb)}: not an ICB in NHS England's practice file (e.g. QGH for Herefordshire and Worcestershire)`);

  // Upper-tier council of every district, from any practice that names one (new practices do not).
  const upperTierOf = new Map<string, Org>();
  for (const p of practices) {
    if (p.upperTierCode && p.upperTierName && !upperTierOf.has(p.ladCode)) upperTierOf.set(p.ladCode, { code: p.upperTierCode, name: councilName(p.upperTierCode, p.upperTierName) });
  }

  const icbOf = icbOfDistricts();
  let districtCodes = [...new Set(own.map((p) => p.ladCode))].filter((d) => icbOf.get(d) === code);
  // An ICB that would lose every district to its neighbours keeps its own (none does today).
  if (districtCodes.length === 0) districtCodes = [...new Set(own.map((p) => p.ladCode))];
  districtCodes.sort();
  const districtSet = new Set(districtCodes);

  const lsoas: AreaLsoa[] = [];
  const populationOf = new Map<string, number>();
  for (const l of nationalLsoas()) {
    const district = LAD19_TO_LAD21[l.lad] ?? l.lad;
    if (!districtSet.has(district)) continue;
    const council = upperTierOf.get(district)?.code ?? district;
    lsoas.push({ code: l.code, lad: l.lad, district, council, imdDecile: l.imdDecile, children: l.children, adults: l.adults, older: l.older });
    populationOf.set(district, (populationOf.get(district) ?? 0) + l.children + l.adults + l.older);
  }
  lsoas.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));

  const districts = new Map<string, AreaDistrict>();
  for (const district of districtCodes) {
    // Residents of a district register with one of this ICB's practices in it.
    const inDistrict = own.filter((p) => p.ladCode === district).sort((a, b) => a.code.localeCompare(b.code));
    const open = inDistrict.some((p) => p.population !== null);
    const areaPractices: AreaPractice[] = inDistrict.map((p) => {
      const outward = p.postcode.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
      return { code: p.code, name: p.name, postcode: p.postcode, outward, town: postTown(outward), weight: open ? (p.population ?? 0) : listSize(p) };
    });
    let running = 0;
    const cumulativeWeights = areaPractices.map((p) => (running += p.weight));
    const ladName = inDistrict[0]?.ladName ?? district;
    const council = upperTierOf.get(district) ?? { code: district, name: councilName(district, ladName) };
    districts.set(district, { code: district, name: cleanAreaName(ladName), council, practices: areaPractices, cumulativeWeights });
  }

  const icbName = first.icbName;
  const ambulanceOf = (council: string): Org => AMBULANCE[AMBULANCE_BY_COUNCIL[council] ?? AMBULANCE_BY_ICB[code] ?? ''] ?? { code: `${code}-AMB`, name: `Placeholder ambulance service (${icbName})` };

  let byDistrict: Map<string, DistrictOrganisations>;
  if (code === 'QGH') {
    byDistrict = new Map([...districts.values()].map((d) => [d.code, qghDistrict(d.code, d.council, ambulanceOf(d.council.code))]));
  } else {
    byDistrict = placeholderDistricts({ code, name: icbName }, districts, populationOf, ambulanceOf);
  }

  // Keyed by both the 2019 and the 2021 district codes, so either finds its organisations.
  const districtRecord: Record<string, DistrictOrganisations> = {};
  for (const [district, orgs] of byDistrict) districtRecord[district] = orgs;
  for (const l of lsoas) if (!districtRecord[l.lad]) districtRecord[l.lad] = byDistrict.get(l.district) as DistrictOrganisations;

  const total = [...populationOf.values()].reduce((s, v) => s + v, 0);
  const weigh = (pick: (d: DistrictOrganisations) => Org): Org => {
    const weights = new Map<string, { org: Org; weight: number }>();
    for (const [district, orgs] of byDistrict) {
      const org = pick(orgs);
      const entry = weights.get(org.code) ?? { org, weight: 0 };
      entry.weight += populationOf.get(district) ?? 0;
      weights.set(org.code, entry);
    }
    return [...weights.values()].sort((a, b) => b.weight - a.weight || a.org.code.localeCompare(b.org.code))[0]?.org as Org;
  };
  const acuteShares = new Map<string, { code: string; name: string; share: number }>();
  for (const [district, orgs] of byDistrict) {
    for (const t of orgs.acuteTrusts) {
      const entry = acuteShares.get(t.code) ?? { code: t.code, name: t.name, share: 0 };
      entry.share += (t.share * (populationOf.get(district) ?? 0)) / total;
      acuteShares.set(t.code, entry);
    }
  }
  const councils = new Map<string, Org>();
  for (const d of districts.values()) councils.set(d.council.code, d.council);

  const organisations: AreaOrganisations = {
    icb: { code, name: icbName },
    practices: own.map((p) => ({ code: p.code, name: p.name, postcode: p.postcode, lad: p.ladCode, listSize: listSize(p) })),
    acuteTrusts: [...acuteShares.values()].sort((a, b) => b.share - a.share || a.code.localeCompare(b.code)),
    communityTrust: weigh((d) => d.communityTrust),
    mentalHealthTrust: weigh((d) => d.mentalHealthTrust),
    ambulanceTrust: weigh((d) => d.ambulanceTrust),
    councils: [...councils.values()].sort((a, b) => a.code.localeCompare(b.code)),
    districts: districtRecord,
  };
  const area: Area = { icb: { code, name: icbName, region: first.region }, organisations, lsoas, districts, population: total };
  areaCache.set(code, area);
  return area;
}

// ---------------------------------------------------------------------------------------------
// Who serves a resident: for history.ts and feeds.ts.

function districtOf(organisations: AreaOrganisations, lad: string): DistrictOrganisations | undefined {
  return organisations.districts?.[lad] ?? organisations.districts?.[LAD19_TO_LAD21[lad] ?? ''];
}

/**
 * The acute trust a resident of district `lad` (2019 or 2021 code) attends for one episode: drawn
 * by the district's shares when `random` is given, otherwise the district's main trust.
 */
export function acuteTrustFor(organisations: AreaOrganisations, lad: string, random?: Random): { code: string; name: string } {
  const trusts = districtOf(organisations, lad)?.acuteTrusts ?? organisations.acuteTrusts;
  if (trusts.length === 0) throw new Error(`The area ${organisations.icb.code} has no acute trust`);
  const chosen = random ? random.weighted(trusts, trusts.map((t) => t.share)) : (trusts[0] as { code: string; name: string });
  return { code: chosen.code, name: chosen.name };
}

export function communityTrustFor(organisations: AreaOrganisations, lad: string): { code: string; name: string } {
  return districtOf(organisations, lad)?.communityTrust ?? organisations.communityTrust;
}

export function mentalHealthTrustFor(organisations: AreaOrganisations, lad: string): { code: string; name: string } {
  return districtOf(organisations, lad)?.mentalHealthTrust ?? organisations.mentalHealthTrust;
}

export function ambulanceTrustFor(organisations: AreaOrganisations, lad: string): { code: string; name: string } {
  return districtOf(organisations, lad)?.ambulanceTrust ?? organisations.ambulanceTrust;
}

/** The upper-tier council (social care authority) of a district. */
export function councilFor(organisations: AreaOrganisations, lad: string): { code: string; name: string } {
  const council = districtOf(organisations, lad)?.council ?? organisations.councils[0];
  if (!council) throw new Error(`The area ${organisations.icb.code} has no council`);
  return council;
}

/** Every organisation that holds records in the area (trusts, councils; not practices), once each. */
export function areaProviders(organisations: AreaOrganisations): { code: string; name: string }[] {
  const all = new Map<string, { code: string; name: string }>();
  const add = (o: { code: string; name: string }): void => {
    if (!all.has(o.code)) all.set(o.code, { code: o.code, name: o.name });
  };
  organisations.acuteTrusts.forEach(add);
  add(organisations.communityTrust);
  add(organisations.mentalHealthTrust);
  add(organisations.ambulanceTrust);
  organisations.councils.forEach(add);
  for (const d of Object.values(organisations.districts ?? {})) {
    d.acuteTrusts.forEach(add);
    add(d.communityTrust);
    add(d.mentalHealthTrust);
    add(d.ambulanceTrust);
    add(d.council);
  }
  return [...all.values()];
}
