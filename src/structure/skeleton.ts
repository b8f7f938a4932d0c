/**
 * Builds the skeleton of any of England's 42 ICSs from NHS England's practice data: the ICB,
 * its practices and PCNs, a place for each local authority district, its councils, an empty
 * ICB board, an ICP with the ICB and the upper-tier councils, and a place-based partnership per
 * place. People, trusts and delegations are for the ICS to add; the rules check lists what is
 * missing.
 */
import { NotFoundError } from '../core/errors.js';
import type { Organisation, OrganisationKind, Place } from './model.js';
import { type PracticeRecord, allPractices, practicesOf, toTitleCase } from './reference-data.js';
import type { IcsSeed } from './seed.js';

/** "Herefordshire, County of" → "Herefordshire"; "Bristol, City of" → "Bristol". */
export function cleanAreaName(name: string): string {
  return name.replace(/,\s*(County|City) of$/i, '').trim();
}

/** ONS GSS code prefixes: E06 unitary, E07 shire district, E08 metropolitan district, E09 London borough, E10 county. */
function councilKind(gssCode: string): OrganisationKind {
  if (gssCode.startsWith('E07')) return 'lower_tier_council';
  if (gssCode.startsWith('E10')) return 'upper_tier_council';
  return 'unitary_council';
}

function organisation(code: string, name: string, kind: OrganisationKind, extra: Partial<Organisation> = {}): Organisation {
  return { code, name, kind, services: [], postcode: null, latitude: null, longitude: null, website: null, ...extra };
}

export function buildSkeleton(icbCode: string): IcsSeed {
  const code = icbCode.toUpperCase();
  const records = practicesOf(code);
  const first = records[0];
  if (!first) throw new NotFoundError(`ICB ${icbCode} in NHS England's practice data`);

  const name = first.icbName.replace(/^NHS\s+/, '').replace(/\s+ICB$/, '');
  const icb = organisation(code, first.icbName, 'icb');

  // Upper-tier council of each district, learnt from every practice in England that names one.
  const upperTierOf = new Map<string, { code: string; name: string }>();
  for (const p of allPractices()) {
    if (p.upperTierCode && p.upperTierName && !upperTierOf.has(p.ladCode)) upperTierOf.set(p.ladCode, { code: p.upperTierCode, name: p.upperTierName });
  }

  const councils = new Map<string, Organisation>();
  const places: Place[] = [];
  for (const lad of [...new Map(records.map((r) => [r.ladCode, r.ladName])).entries()].sort((a, b) => a[1].localeCompare(b[1]))) {
    const [ladCode, ladName] = lad;
    const area = cleanAreaName(ladName);
    const kind = councilKind(ladCode);
    councils.set(ladCode, organisation(ladCode, `${area} Council`, kind));
    let upperTierCode = ladCode;
    if (kind === 'lower_tier_council') {
      const upper = upperTierOf.get(ladCode);
      if (upper) {
        councils.set(upper.code, organisation(upper.code, `${cleanAreaName(upper.name)} County Council`, 'upper_tier_council'));
        upperTierCode = upper.code;
      } else {
        upperTierCode = '';
      }
    }
    places.push({ id: `${code}-${ladCode}`, icsCode: code, name: area, gssCode: ladCode, councilCode: ladCode, upperTierCode: upperTierCode || null });
  }
  const placeOf = (r: PracticeRecord): string => `${code}-${r.ladCode}`;

  // A PCN belongs to the place where most of its registered patients' practices are.
  const pcnPatients = new Map<string, Map<string, number>>();
  const pcnNames = new Map<string, string>();
  for (const r of records) {
    if (!r.pcnCode) continue;
    pcnNames.set(r.pcnCode, toTitleCase(r.pcnName ?? r.pcnCode));
    const byPlace = pcnPatients.get(r.pcnCode) ?? new Map<string, number>();
    byPlace.set(placeOf(r), (byPlace.get(placeOf(r)) ?? 0) + (r.registeredPatients ?? r.population ?? 0));
    pcnPatients.set(r.pcnCode, byPlace);
  }
  const pcns = [...pcnPatients.entries()].map(([pcnCode, byPlace]) => ({
    orgCode: pcnCode,
    icsCode: code,
    placeId: [...byPlace.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
  }));

  const organisations: Organisation[] = [
    icb,
    ...councils.values(),
    ...pcns.map((p) => organisation(p.orgCode, pcnNames.get(p.orgCode) ?? p.orgCode, 'pcn')),
    ...records.map((r) => organisation(r.code, r.name, 'gp_practice', { postcode: r.postcode, latitude: r.latitude, longitude: r.longitude })),
  ];

  const boardId = `${code}-board`;
  const icpId = `${code}-icp`;
  const upperTier = [...new Set(places.map((p) => p.upperTierCode).filter((c): c is string => c !== null))];

  return {
    ics: { code, name, region: first.region || null },
    organisations,
    partners: [...councils.keys()],
    places,
    pcns,
    practices: records.map((r) => ({
      orgCode: r.code,
      icsCode: code,
      pcnCode: r.pcnCode,
      placeId: placeOf(r),
      ladCode: r.ladCode,
      registeredPatients: r.registeredPatients,
      population: r.population,
      weightedPopulation: r.weightedPopulation,
    })),
    people: [],
    organisationRoles: [],
    bodies: [
      {
        id: boardId,
        icsCode: code,
        kind: 'icb_board',
        name: `${first.icbName} board`,
        parentId: null,
        committeeType: null,
        placeId: null,
        form: null,
        model: null,
        leadOrgCode: null,
        quorum: null,
        description: 'The unitary board of the integrated care board.',
      },
      {
        id: icpId,
        icsCode: code,
        kind: 'icp',
        name: `${name} Integrated Care Partnership`,
        parentId: null,
        committeeType: null,
        placeId: null,
        form: null,
        model: null,
        leadOrgCode: null,
        quorum: null,
        description: 'The statutory joint committee of the ICB and the upper-tier councils; it writes the integrated care strategy.',
      },
      ...places.map((p) => ({
        id: `${code}-place-${p.gssCode ?? p.id}`,
        icsCode: code,
        kind: 'place_partnership' as const,
        name: `${p.name} Place Partnership`,
        parentId: null,
        committeeType: null,
        placeId: p.id,
        form: null,
        model: null,
        leadOrgCode: null,
        quorum: null,
        description: null,
      })),
    ],
    bodyOrganisations: [
      { bodyId: icpId, orgCode: code },
      ...upperTier.map((c) => ({ bodyId: icpId, orgCode: c })),
      ...places.flatMap((p) =>
        [...new Set([p.councilCode, p.upperTierCode].filter((c): c is string => c !== null))].map((c) => ({ bodyId: `${code}-place-${p.gssCode ?? p.id}`, orgCode: c })),
      ),
    ],
    memberships: [],
    functions: [],
    delegations: [],
  };
}
