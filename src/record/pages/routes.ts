/**
 * The clinician's pages of the shared care record (NHS design system, server-rendered):
 *
 *   GET /record                    find a resident by NHS number, or family name and date of birth
 *   GET /record/patients/:id       the joined record of the resident this source Patient belongs to,
 *                                  filtered by ?setting=…&period=…
 *
 * (POST /record/patients/:id/launch, the SMART EHR launch, is the access module's: ehr-launch.ts.)
 *
 * Both are for staff acting in a direct-care role. What they show is read through the FHIR store
 * acting for the user (their access policy decides, in the SQL, which copies and records they
 * see), and each search and each view is recorded in the audit trail naming every Patient read;
 * the search values themselves are never logged or audited.
 */
import { requestAccess } from '../../access/audit/guard.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fileURLToPath } from 'node:url';
import type { AppContext } from '../../app.js';
import { recordAccess } from '../../access/audit/trail.js';
import { DIRECT_CARE_ROLES } from '../../access/context.js';
import type { AccessRule } from '../../access/identity/rules.js';
import { launchableApps } from '../../access/oauth/clients.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import { HTML } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import { organisationNames } from '../../structure/repository.js';
import { residentOfPatient } from '../mpi/residents.js';
import { findInputOf, findResidents, hiddenHolders, isEmpty, MAX_RESULTS, residentsOfPatients, validateFind } from './find.js';
import { type JoinedRecord, PERIODS, parseFilters, readJoinedRecord, RecordRefused } from './joined-record.js';
import { SETTING_NAMES, SETTINGS } from './sources.js';
import { trendChartSvg } from './trends.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const DIRECT_CARE: AccessRule = { who: 'staff', roles: DIRECT_CARE_ROLES, purpose: 'see residents’ records' };
const CRUMBS = [{ href: '/', text: 'Home' }];

export async function registerRecordPages(app: FastifyInstance, context: AppContext): Promise<void> {
  const render = createRenderer([VIEWS]);
  const page = (reply: FastifyReply, status: number, template: string, values: Record<string, unknown>): FastifyReply =>
    reply.status(status).type(HTML).header('cache-control', 'no-store').send(render(template, { crumbs: CRUMBS, ...values }));

  app.get<{ Querystring: Record<string, unknown> }>('/record', { schema: { hide: true }, config: { access: DIRECT_CARE } }, async (request, reply) => {
    const db = context.db;
    const access = requestAccess(request);
    const input = findInputOf(request.query ?? {});
    const values = { title: 'Find a resident’s record', form: input, errorFor: {} };
    if (isEmpty(input)) return page(reply, 200, 'find.njk', values);
    const { query, errors } = validateFind(input);
    if (!query) return page(reply, 400, 'find.njk', { ...values, errors, errorFor: Object.fromEntries(errors.map((e) => [e.href.slice(1), e.text])) });
    const policy = fhirAccessFor(access, db);
    const found = await findResidents(db, policy, query, (ids) => residentsOfPatients(db, ids));
    const hidden = found.residents.length === 0 && query.by === 'nhs-number' ? await hiddenHolders(db, query.nhsNumber) : [];
    const what = query.by === 'nhs-number' ? 'Patient?identifier=nhs-number' : `Patient?family&birthdate${query.given ? '&given' : ''}`;
    await recordAccess(db, {
      context: access,
      action: 'search',
      outcome: hidden.length > 0 ? 'refused' : 'success',
      patients: hidden.length > 0 ? hidden : found.patientIds,
      what,
      ...(hidden.length > 0 ? { detail: 'no legitimate relationship with the resident holding this NHS number' } : {}),
      at: new Date(),
    });
    return page(reply, 200, 'find.njk', { ...values, searched: true, found, max: MAX_RESULTS, breakGlass: hidden[0] ? `/access/break-glass?patient=${encodeURIComponent(hidden[0])}` : undefined });
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/record/patients/:id', { schema: { hide: true }, config: { access: DIRECT_CARE } }, async (request, reply) => {
    const db = context.db;
    const access = requestAccess(request);
    const id = request.params.id;
    const filters = parseFilters(request.query ?? {});
    const linked = await residentOfPatient(db, id);
    const patientIds = [id, ...(linked?.patients ?? []).filter((p) => p.withdrawnAt === null && p.patientId !== id).map((p) => p.patientId)];
    const policy = fhirAccessFor(access, db);
    let record: JoinedRecord;
    try {
      record = await readJoinedRecord({ db, policy, patientIds, filters });
    } catch (error) {
      if (!(error instanceof RecordRefused)) throw error;
      const status = error.error.status;
      await recordAccess(db, { context: access, action: 'read', outcome: status === 403 ? 'refused' : 'failure', patients: [id], what: `Patient/${id}`, detail: status === 403 ? 'no legitimate relationship' : `answered ${status}`, at: new Date() });
      const organisation = access.organisation ? ((await organisationNames(db, [access.organisation])).get(access.organisation) ?? access.organisation) : undefined;
      return page(reply, status, 'record-refused.njk', { title: status === 403 ? 'You cannot see this record' : status === 410 ? 'This record was withdrawn' : 'Page not found', status, organisation, breakGlass: status === 403 ? `/access/break-glass?patient=${encodeURIComponent(id)}` : undefined });
    }
    await recordAccess(db, { context: access, action: 'read', outcome: 'success', patients: record.patientIds, what: `Patient/${id} (shared care record: ${record.patientIds.length} source records)`, at: new Date() });
    const charts = Object.fromEntries(await Promise.all(record.results.map(async (series) => [series.key, { wide: await trendChartSvg(series, 560), narrow: await trendChartSvg(series, 280) }] as const)));
    const apps = await launchableApps(db);
    const here = `/record/patients/${encodeURIComponent(id)}`;
    return page(reply, 200, 'record.njk', {
      title: record.banner.name,
      record,
      charts,
      apps,
      here,
      settingItems: SETTINGS.map((s) => ({ value: s, text: SETTING_NAMES[s], checked: record.filters.settings.includes(s) })),
      periodItems: Object.entries(PERIODS).map(([value, text]) => ({ value, text, selected: record.filters.period === value })),
      filtered: record.filters.settings.length > 0 || record.filters.period !== 'all',
      settingNames: SETTING_NAMES,
      crumbs: [...CRUMBS, { href: '/record', text: 'Find a resident' }],
    });
  });
}
