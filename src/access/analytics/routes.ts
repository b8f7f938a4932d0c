/**
 * Aggregates for analysts, planners, leaders and board members:
 *
 *   GET /api/analytics/counts        residents with a record of a type and code, by one or two of
 *                                    practice, sex, age band, postcode district (JSON)
 *   GET /api/analytics/counts.csv    the same table as CSV
 *
 * Counted in SQL over the FHIR index tables, without residents who have a National Data
 * Opt-out, and with counts of 1 to 7 suppressed (and whatever would reveal them): nothing that
 * identifies a person leaves these routes. Each request is recorded in the audit trail (purpose
 * HOPERAT, no Patient ids: the caller saw none).
 */
import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { errorResponseSchema } from '../../core/http/errors.js';
import { requireRole } from '../audit/guard.js';
import { todayInEngland } from '../audit/routes.js';
import { recordAccess } from '../audit/trail.js';
import type { AccessContext } from '../context.js';
import { optedOutOfSecondaryUse } from '../policy/consent.js';
import { DIMENSIONS, DIMENSION_TITLES, type Dimension, type OptOutCondition, countResidents } from './counts.js';
import { type SuppressedTable, suppressSmallNumbers } from './suppression.js';

export const ANALYTICS_ROLES = ['analyst', 'leader', 'board_member'] as const;

interface CountsQuery {
  resourceType: string;
  code?: string;
  by: string;
  asOf?: string;
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  required: ['resourceType', 'by'],
  properties: {
    resourceType: { type: 'string', pattern: '^[A-Z][A-Za-z]{1,63}$', description: 'Patient, or a resource type about one patient with a code: Condition, Observation, Procedure, MedicationRequest, Immunization, ...' },
    code: { type: 'string', minLength: 1, maxLength: 300, description: 'system|code, e.g. http://snomed.info/sct|44054006 (type 2 diabetes); not used with Patient' },
    by: { type: 'string', pattern: `^(${DIMENSIONS.join('|')})(,(${DIMENSIONS.join('|')}))?$`, description: 'One or two of practice, sex, age-band, postcode-district, comma-separated: rows, then columns' },
    asOf: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'The date ages are worked out at (today by default)' },
  },
} as const;

export interface AnalyticsRoutesOptions {
  /** The National Data Opt-out condition; the policy module's by default. */
  optOut?: OptOutCondition;
}

export interface CountsResult {
  resourceType: string;
  code: string | null;
  by: Dimension[];
  asOf: string;
  rowTitle: string;
  columnTitle: string | null;
  suppression: string;
  table: SuppressedTable;
}

async function counts(ctx: AppContext, request: FastifyRequest<{ Querystring: CountsQuery }>, access: AccessContext, optOut: OptOutCondition): Promise<CountsResult> {
  const q = request.query;
  const by = q.by.split(',') as Dimension[];
  const asOf = q.asOf ?? todayInEngland();
  const table = await countResidents(ctx.db, { resourceType: q.resourceType, code: q.code, by, asOf }, optOut);
  await recordAccess(ctx.db, {
    context: { ...access, purpose: 'HOPERAT' },
    action: 'search',
    outcome: 'success',
    patients: [],
    what: `$analytics-counts?${new URLSearchParams({ resourceType: q.resourceType, ...(q.code ? { code: q.code } : {}), by: q.by }).toString()}`,
    at: new Date(),
    network: request.ip,
  });
  return {
    resourceType: q.resourceType,
    code: q.code ?? null,
    by,
    asOf,
    rowTitle: DIMENSION_TITLES[by[0] as Dimension],
    columnTitle: by[1] ? DIMENSION_TITLES[by[1]] : null,
    suppression: 'Counts of 1 to 7 are shown as null, and so is any count or total that would reveal one. Residents with a National Data Opt-out are not counted.',
    table: suppressSmallNumbers(table),
  };
}

/** The table as CSV rows: a header of the column groups (and Total), then one row per group, then the totals. */
export function countsCsv(result: CountsResult): string {
  const t = result.table;
  const cell = (value: number | null | undefined): string => (value === null ? '*' : value === undefined ? '' : String(value));
  const head = [result.rowTitle, ...(result.columnTitle ? t.columns : ['Residents']), ...(t.rowTotals ? ['Total'] : [])];
  const rows = t.rows.map((label, r) => [label, ...(t.cells[r] ?? []).map(cell), ...(t.rowTotals ? [cell(t.rowTotals[r])] : [])]);
  const totals = t.columnTotals ? [['Total', ...t.columnTotals.map(cell), ...(t.rowTotals ? [cell(t.grandTotal)] : [])]] : [];
  const note = [[`* suppressed. ${result.suppression}`]];
  return stringify([head, ...rows, ...totals, [], ...note]);
}

const tableSchema = {
  type: 'object',
  properties: {
    rows: { type: 'array', items: { type: 'string' } },
    columns: { type: 'array', items: { type: 'string' } },
    cells: { type: 'array', items: { type: 'array', items: { type: ['integer', 'null'] } } },
    rowTotals: { type: 'array', items: { type: ['integer', 'null'] } },
    columnTotals: { type: 'array', items: { type: ['integer', 'null'] } },
    grandTotal: { type: ['integer', 'null'] },
    primary: { type: 'integer' },
    secondary: { type: 'integer' },
  },
} as const;

export async function registerAnalyticsRoutes(app: FastifyInstance, ctx: AppContext, options: AnalyticsRoutesOptions = {}): Promise<void> {
  const optOut = options.optOut ?? optedOutOfSecondaryUse;
  const errors = { 401: errorResponseSchema, 403: errorResponseSchema, 422: errorResponseSchema };
  app.get<{ Querystring: CountsQuery }>(
    '/api/analytics/counts',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Residents with a record, counted by practice, sex, age band or postcode district, small numbers suppressed',
        description: 'For analysts, place and system leaders and board members. Residents with a National Data Opt-out are excluded; counts of 1 to 7, and any that would reveal them, are null.',
        querystring,
        response: {
          200: {
            type: 'object',
            properties: {
              resourceType: { type: 'string' },
              code: { type: ['string', 'null'] },
              by: { type: 'array', items: { type: 'string' } },
              asOf: { type: 'string' },
              rowTitle: { type: 'string' },
              columnTitle: { type: ['string', 'null'] },
              suppression: { type: 'string' },
              table: tableSchema,
            },
          },
          ...errors,
        },
      },
    },
    async (request) => counts(ctx, request, requireRole(request, ANALYTICS_ROLES), optOut),
  );
  app.get<{ Querystring: CountsQuery }>(
    '/api/analytics/counts.csv',
    {
      schema: {
        tags: ['analytics'],
        summary: 'The same counts as CSV (suppressed counts as *)',
        querystring,
        response: { 200: { type: 'string', description: 'text/csv' }, ...errors },
      },
    },
    async (request, reply) => {
      const result = await counts(ctx, request, requireRole(request, ANALYTICS_ROLES), optOut);
      const name = `${result.resourceType}-by-${result.by.join('-')}-${result.asOf}.csv`.replace(/[^A-Za-z0-9.-]/g, '_');
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(countsCsv(result));
    },
  );
}
