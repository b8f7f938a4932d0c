/**
 * The structure module's JSON API under /api/ics. Input is validated twice: by JSON schema at
 * the edge (types, required fields, allowed values; described in the OpenAPI document), then by
 * the commands for what only the database can tell (does that organisation exist?).
 */
import { errorResponses } from '../core/http/errors.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../app.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { BODY_KINDS, COLLABORATIVE_MODELS, ORGANISATION_KINDS, PLACE_FORMS, ROLES, today } from './model.js';
import { addBodyOrganisation, addMember, appointClinicalDirector, createIcs, delegateFunction, endMembership, removeBodyOrganisation, updateBody } from './commands.js';
import { functionsMap, functionsMapCsv } from './functions-map.js';
import { listIcs, loadStructure, recentChanges } from './repository.js';
import { RULES, checkRules } from './rules.js';
import { bodyView, icsSummary, pcnSummaries, placeSummaries, practiceSummaries } from './views.js';

/** Until sign-in arrives (the access module), changes are recorded against this actor. */
export const ANONYMOUS_ACTOR = 'unauthenticated user';

const tags = ['structure'];
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'A calendar date, YYYY-MM-DD' } as const;
const icsParams = { type: 'object', required: ['ics'], properties: { ics: { type: 'string', description: 'The ICB ODS code, e.g. QGH' } } } as const;
const bodyParams = { type: 'object', required: ['ics', 'bodyId'], properties: { ics: { type: 'string' }, bodyId: { type: 'string' } } } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const errors = errorResponses;

interface IcsParams {
  ics: string;
}
interface BodyParams extends IcsParams {
  bodyId: string;
}

function asOfFrom(query: { asOf?: string }): string {
  if (query.asOf === undefined) return today();
  const d = new Date(`${query.asOf}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== query.asOf) throw ValidationError.field('asOf', 'Give a real date, YYYY-MM-DD');
  return query.asOf;
}

export async function registerStructureApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const load = (code: string) => loadStructure(ctx.db, code.toUpperCase());

  app.get('/api/ics', { schema: { tags, summary: 'The ICSs held in this OpenICS' } }, async () => ({ ics: await listIcs(ctx.db) }));

  app.post<{ Body: { code: string } }>(
    '/api/ics',
    {
      schema: {
        tags,
        summary: "Build the skeleton of any of England's 42 ICSs from NHS England's practice data",
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', pattern: '^[A-Za-z0-9]{3}$', description: 'ICB ODS code, e.g. QHM' } } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await createIcs(ctx.db, request.body.code, ANONYMOUS_ACTOR)),
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics', { schema: { tags, summary: 'An ICS at a glance', params: icsParams } }, async (request) => {
    const s = await load(request.params.ics);
    return { ...icsSummary(s, checkRules(s)), places: placeSummaries(s) };
  });

  app.get<{ Params: IcsParams; Querystring: { kind?: string } }>(
    '/api/ics/:ics/organisations',
    {
      schema: {
        tags,
        summary: 'Organisations of the ICS (partners, practices, PCNs and any organisation on its bodies)',
        params: icsParams,
        querystring: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string', enum: Object.keys(ORGANISATION_KINDS) } } },
      },
    },
    async (request) => {
      const s = await load(request.params.ics);
      return { organisations: [...s.organisations.values()].filter((o) => !request.query.kind || o.kind === request.query.kind) };
    },
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics/places', { schema: { tags, summary: 'Places with their councils, partnership and populations', params: icsParams } }, async (request) => ({
    places: placeSummaries(await load(request.params.ics)),
  }));

  app.get<{ Params: IcsParams & { placeId: string } }>(
    '/api/ics/:ics/places/:placeId',
    { schema: { tags, summary: 'One place with its PCNs and practices', params: { type: 'object', properties: { ics: { type: 'string' }, placeId: { type: 'string' } } } } },
    async (request) => {
      const s = await load(request.params.ics);
      const place = placeSummaries(s).find((p) => p.id === request.params.placeId);
      if (!place) throw new NotFoundError(`Place ${request.params.placeId}`);
      return { ...place, pcns: pcnSummaries(s, today(), (id) => id === place.id), practices: practiceSummaries(s, (p) => p.placeId === place.id) };
    },
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics/pcns', { schema: { tags, summary: 'Primary care networks with their clinical directors', params: icsParams } }, async (request) => ({
    pcns: pcnSummaries(await load(request.params.ics), today()),
  }));

  app.get<{ Params: IcsParams & { pcnCode: string } }>(
    '/api/ics/:ics/pcns/:pcnCode',
    { schema: { tags, summary: 'One PCN with its practices', params: { type: 'object', properties: { ics: { type: 'string' }, pcnCode: { type: 'string' } } } } },
    async (request) => {
      const s = await load(request.params.ics);
      const pcn = pcnSummaries(s, today()).find((p) => p.code === request.params.pcnCode);
      if (!pcn) throw new NotFoundError(`PCN ${request.params.pcnCode}`);
      return { ...pcn, practices: practiceSummaries(s, (p) => p.pcnCode === pcn.code) };
    },
  );

  app.post<{ Params: IcsParams & { pcnCode: string }; Body: { personId?: string; personName?: string; startDate: string } }>(
    '/api/ics/:ics/pcns/:pcnCode/clinical-director',
    {
      schema: {
        tags,
        summary: "Appoint a PCN's clinical director (the previous one's term ends the day before)",
        params: { type: 'object', properties: { ics: { type: 'string' }, pcnCode: { type: 'string' } } },
        body: { type: 'object', required: ['startDate'], additionalProperties: false, properties: { personId: { type: 'string' }, personName: { type: 'string', maxLength: 200 }, startDate: date } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await appointClinicalDirector(ctx.db, request.params.ics.toUpperCase(), request.params.pcnCode, request.body, ANONYMOUS_ACTOR);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics/practices', { schema: { tags, summary: 'GP practices with PCN, place and populations', params: icsParams } }, async (request) => ({
    practices: practiceSummaries(await load(request.params.ics)),
  }));

  app.get<{ Params: IcsParams & { code: string } }>(
    '/api/ics/:ics/practices/:code',
    { schema: { tags, summary: 'One GP practice', params: { type: 'object', properties: { ics: { type: 'string' }, code: { type: 'string' } } } } },
    async (request) => {
      const practice = practiceSummaries(await load(request.params.ics), (p) => p.orgCode === request.params.code)[0];
      if (!practice) throw new NotFoundError(`Practice ${request.params.code}`);
      return practice;
    },
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics/people', { schema: { tags, summary: 'People who hold roles in the ICS', params: icsParams } }, async (request) => ({
    people: [...(await load(request.params.ics)).people.values()].map((p) => ({ id: p.id, name: p.name })),
  }));

  app.get<{ Params: IcsParams; Querystring: { kind?: string; asOf?: string } }>(
    '/api/ics/:ics/bodies',
    {
      schema: {
        tags,
        summary: 'Bodies that meet and decide: the ICB board and committees, the ICP, place partnerships, provider collaboratives, clinical networks',
        params: icsParams,
        querystring: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string', enum: Object.keys(BODY_KINDS) }, asOf: date } },
      },
    },
    async (request) => {
      const s = await load(request.params.ics);
      const asOf = asOfFrom(request.query);
      const report = checkRules(s, asOf);
      return { bodies: s.bodies.filter((b) => !request.query.kind || b.kind === request.query.kind).map((b) => bodyView(s, b, report, asOf)) };
    },
  );

  app.get<{ Params: BodyParams; Querystring: { asOf?: string } }>(
    '/api/ics/:ics/bodies/:bodyId',
    { schema: { tags, summary: 'One body: its members (current and past), organisations, committees and rule breaches', params: bodyParams, querystring: { type: 'object', additionalProperties: false, properties: { asOf: date } } } },
    async (request) => {
      const s = await load(request.params.ics);
      const body = s.bodies.find((b) => b.id === request.params.bodyId);
      if (!body) throw new NotFoundError(`Body ${request.params.bodyId}`);
      const asOf = asOfFrom(request.query);
      return bodyView(s, body, checkRules(s, asOf), asOf);
    },
  );

  /** After an edit, answer with the body as it now stands: its breaches show what the edit caused. */
  const bodyAfterEdit = async (reply: FastifyReply, ics: string, bodyId: string, status: number, extra: Record<string, unknown> = {}) => {
    const s = await load(ics);
    const body = s.bodies.find((b) => b.id === bodyId);
    if (!body) throw new NotFoundError(`Body ${bodyId}`);
    const asOf = today();
    const report = checkRules(s, asOf);
    return reply.status(status).send({ ...extra, body: bodyView(s, body, report, asOf), rulesPassed: report.passed, breaches: report.breaches });
  };

  app.patch<{ Params: BodyParams; Body: { form?: string | null; model?: string | null; leadOrgCode?: string | null; quorum?: number | null } }>(
    '/api/ics/:ics/bodies/:bodyId',
    {
      schema: {
        tags,
        summary: "Change a place partnership's form, a collaborative's model, the lead provider or the quorum",
        params: bodyParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            form: { type: ['string', 'null'], enum: [...Object.keys(PLACE_FORMS), null] },
            model: { type: ['string', 'null'], enum: [...Object.keys(COLLABORATIVE_MODELS), null] },
            leadOrgCode: { type: ['string', 'null'] },
            quorum: { type: ['integer', 'null'], minimum: 1 },
          },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      await updateBody(ctx.db, ics, request.params.bodyId, request.body, ANONYMOUS_ACTOR);
      return bodyAfterEdit(reply, ics, request.params.bodyId, 200);
    },
  );

  app.post<{ Params: BodyParams; Body: { personId?: string; personName?: string; role: string; orgCode?: string; voting?: boolean; startDate: string; endDate?: string } }>(
    '/api/ics/:ics/bodies/:bodyId/members',
    {
      schema: {
        tags,
        summary: 'Add a member to a body: an existing person (personId) or a new one (personName)',
        params: bodyParams,
        body: {
          type: 'object',
          required: ['role', 'startDate'],
          additionalProperties: false,
          properties: {
            personId: { type: 'string' },
            personName: { type: 'string', maxLength: 200 },
            role: { type: 'string', enum: Object.keys(ROLES) },
            orgCode: { type: 'string', description: 'The organisation the member comes from' },
            voting: { type: 'boolean', default: true },
            startDate: date,
            endDate: date,
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      const added = await addMember(ctx.db, ics, request.params.bodyId, request.body, ANONYMOUS_ACTOR);
      return bodyAfterEdit(reply, ics, request.params.bodyId, 201, added);
    },
  );

  app.post<{ Params: BodyParams & { membershipId: string }; Body: { endDate: string } }>(
    '/api/ics/:ics/bodies/:bodyId/members/:membershipId/end',
    {
      schema: {
        tags,
        summary: "End a member's term (the record is kept)",
        params: { type: 'object', properties: { ics: { type: 'string' }, bodyId: { type: 'string' }, membershipId: { type: 'string' } } },
        body: { type: 'object', required: ['endDate'], additionalProperties: false, properties: { endDate: date } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      await endMembership(ctx.db, ics, request.params.bodyId, request.params.membershipId, request.body.endDate, ANONYMOUS_ACTOR);
      return bodyAfterEdit(reply, ics, request.params.bodyId, 200);
    },
  );

  app.post<{ Params: BodyParams; Body: { orgCode: string } }>(
    '/api/ics/:ics/bodies/:bodyId/organisations',
    {
      schema: {
        tags,
        summary: 'Add an organisation to a body (ICP partner, collaborative member, place partner)',
        params: bodyParams,
        body: { type: 'object', required: ['orgCode'], additionalProperties: false, properties: { orgCode: { type: 'string', minLength: 1 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      await addBodyOrganisation(ctx.db, ics, request.params.bodyId, request.body.orgCode, ANONYMOUS_ACTOR);
      return bodyAfterEdit(reply, ics, request.params.bodyId, 200);
    },
  );

  app.delete<{ Params: BodyParams & { orgCode: string } }>(
    '/api/ics/:ics/bodies/:bodyId/organisations/:orgCode',
    { schema: { tags, summary: 'Remove an organisation from a body', params: { type: 'object', properties: { ics: { type: 'string' }, bodyId: { type: 'string' }, orgCode: { type: 'string' } } }, response: { 200: anyObject, ...errors } } },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      await removeBodyOrganisation(ctx.db, ics, request.params.bodyId, request.params.orgCode, ANONYMOUS_ACTOR);
      return bodyAfterEdit(reply, ics, request.params.bodyId, 200);
    },
  );

  app.get('/api/rules', { schema: { tags, summary: 'The rules the rules check runs, with their words and sources' } }, async () => ({
    rules: RULES.map((r) => ({ id: r.id, words: r.words, source: r.source, concerns: r.concerns })),
  }));

  app.get<{ Params: IcsParams; Querystring: { asOf?: string } }>(
    '/api/ics/:ics/rules-check',
    { schema: { tags, summary: 'Run every rule against the ICS; each breach names its rule, words and source', params: icsParams, querystring: { type: 'object', additionalProperties: false, properties: { asOf: date } } } },
    async (request) => {
      const report = checkRules(await load(request.params.ics), asOfFrom(request.query));
      return {
        asOf: report.asOf,
        passed: report.passed,
        rules: report.rules.map((r) => ({ id: r.rule.id, words: r.rule.words, source: r.rule.source, passed: r.breaches.length === 0, breaches: r.breaches.length })),
        breaches: report.breaches,
      };
    },
  );

  app.get<{ Params: IcsParams; Querystring: { format?: 'json' | 'csv'; asOf?: string } }>(
    '/api/ics/:ics/functions',
    {
      schema: {
        tags,
        summary: 'The functions and decisions map (JSON, or CSV with ?format=csv)',
        params: icsParams,
        querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['json', 'csv'] }, asOf: date } },
      },
    },
    async (request, reply) => {
      const s = await load(request.params.ics);
      const map = functionsMap(s, asOfFrom(request.query));
      if (request.query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${s.ics.code}-functions-and-decisions.csv"`)
          .send(functionsMapCsv(map));
      }
      return { ics: s.ics.code, accountable: { code: s.icb.code, name: s.icb.name }, functions: map };
    },
  );

  app.post<{ Params: IcsParams; Body: { functionId: string; toBodyId?: string; toPersonId?: string; placeId?: string; budgetPounds?: number; decisions: string; startDate: string; endDate?: string } }>(
    '/api/ics/:ics/delegations',
    {
      schema: {
        tags,
        summary: 'Delegate a function to a body or a person. Accountability stays with the ICB.',
        params: icsParams,
        body: {
          type: 'object',
          required: ['functionId', 'decisions', 'startDate'],
          additionalProperties: false,
          properties: {
            functionId: { type: 'string' },
            toBodyId: { type: 'string' },
            toPersonId: { type: 'string' },
            placeId: { type: 'string' },
            budgetPounds: { type: 'number', minimum: 0 },
            decisions: { type: 'string', minLength: 1, maxLength: 2000 },
            startDate: date,
            endDate: date,
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const ics = request.params.ics.toUpperCase();
      const id = await delegateFunction(ctx.db, ics, request.body, ANONYMOUS_ACTOR);
      const s = await load(ics);
      const report = checkRules(s);
      return reply.status(201).send({ id, functions: functionsMap(s), rulesPassed: report.passed, breaches: report.breaches });
    },
  );

  app.get<{ Params: IcsParams }>('/api/ics/:ics/changes', { schema: { tags, summary: 'Recent changes to the structure, newest first', params: icsParams } }, async (request) => {
    const ics = request.params.ics.toUpperCase();
    await load(ics);
    return { changes: await recentChanges(ctx.db, ics, 100) };
  });
}
