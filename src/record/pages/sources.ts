/**
 * Where a record came from, as a clinician reads it: the source organisation (name and code) and
 * its care setting. `meta.source` says which organisation and system sent each resource
 * (`urn:openics:source:<ODS or GSS code>:<system>`); the setting comes from the structure
 * module's kind of organisation (practice, council, trust and its services), and for a trust
 * that runs more than one kind of service, from the system that sent it.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../core/db/database.js';

export const SETTINGS = ['gp', 'acute', 'community', 'mental-health', 'social-care', 'ambulance'] as const;
export type Setting = (typeof SETTINGS)[number];

export const SETTING_NAMES: Record<Setting | 'other', string> = {
  gp: 'GP practice',
  acute: 'Hospital (acute)',
  community: 'Community health',
  'mental-health': 'Mental health',
  'social-care': 'Social care',
  ambulance: 'Ambulance',
  other: 'Other',
};

export interface SourceOrganisation {
  code: string;
  name: string;
  setting: Setting | 'other';
}

const SOURCE_PREFIX = 'urn:openics:source:';

/** `urn:openics:source:M81001:gp-emis` → { holder: 'M81001', system: 'gp-emis' }. */
export function parseSource(source: string | undefined): { holder: string; system: string } | undefined {
  if (!source?.startsWith(SOURCE_PREFIX)) return undefined;
  const [holder, ...rest] = source.slice(SOURCE_PREFIX.length).split(':');
  return holder ? { holder, system: rest.join(':') } : undefined;
}

interface OrganisationRow {
  code: string;
  name: string;
  kind: string;
  services: string[] | null;
}

/** The setting an organisation of the structure module works in, given the system that sent the record. */
export function settingOf(kind: string | undefined, services: readonly string[], system: string): Setting | 'other' {
  if (kind === 'gp_practice' || system.startsWith('gp-')) return 'gp';
  if (kind === 'upper_tier_council' || kind === 'unitary_council' || kind === 'social_care_provider' || system === 'mosaic') return 'social-care';
  // A trust's systems: PAS for hospital care, RiO for community and mental health, CAD for ambulance.
  if (system === 'cad' || (services.length === 1 && services[0] === 'ambulance')) return 'ambulance';
  if (system === 'rio') return services.includes('mental_health') ? 'mental-health' : 'community';
  if (system === 'pas' || services.includes('acute')) return 'acute';
  if (services.includes('mental_health')) return 'mental-health';
  if (services.includes('community')) return 'community';
  return 'other';
}

/**
 * Resolves the source organisations of these resources. Names come from the structure module,
 * else from the Organization resources the records came with, else the code alone.
 */
export async function sourceResolver(q: Queryable, resources: readonly Resource[]): Promise<(resource: Resource) => SourceOrganisation> {
  const holders = new Set<string>();
  const organizationNames = new Map<string, string>();
  for (const resource of resources) {
    const parsed = parseSource(resource.meta?.source);
    if (parsed) holders.add(parsed.holder);
    if (resource.resourceType === 'Organization' && resource.id && resource.name) organizationNames.set(resource.id, resource.name);
  }
  const { rows } = await q.query<OrganisationRow>('SELECT code, name, kind, services FROM organisation WHERE code = ANY($1::text[])', [[...holders]]);
  const known = new Map(rows.map((r) => [r.code, r]));
  const cache = new Map<string, SourceOrganisation>();
  const unknown: SourceOrganisation = { code: '', name: 'Source not recorded', setting: 'other' };
  return (resource) => {
    const parsed = parseSource(resource.meta?.source);
    if (!parsed) return unknown;
    const dataSet = parsed.system === 'rio' ? dataSetOf(resource) : undefined;
    const key = `${parsed.holder}:${parsed.system}:${dataSet ?? ''}`;
    let found = cache.get(key);
    if (!found) {
      const row = known.get(parsed.holder);
      found = { code: parsed.holder, name: row?.name ?? organizationNames.get(parsed.holder) ?? parsed.holder, setting: dataSet ?? settingOf(row?.kind, row?.services ?? [], parsed.system) };
      cache.set(key, found);
    }
    return found;
  };
}

/**
 * A community and mental health trust sends both services from one system: its care services
 * say which national data set they report to (CSDS: community; MHSDS: mental health).
 */
function dataSetOf(resource: Resource): Setting | undefined {
  const r = resource as { type?: { coding?: { display?: string }[] }[] | { coding?: { display?: string }[] }; serviceType?: { coding?: { display?: string }[] } | { coding?: { display?: string }[] }[] };
  const concepts = [r.type, r.serviceType].flat().filter((c): c is { coding?: { display?: string }[] } => c !== undefined && c !== null);
  for (const concept of concepts) {
    for (const coding of concept.coding ?? []) {
      if (coding.display?.endsWith('(CSDS)')) return 'community';
      if (coding.display?.endsWith('(MHSDS)')) return 'mental-health';
    }
  }
  return undefined;
}
