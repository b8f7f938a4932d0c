/**
 * The governance module's JSON API under /api/ics/:ics/governance. As in the structure API,
 * input is checked twice: by JSON schema at the edge (described in the OpenAPI document), then
 * by the commands for what only the database can tell. Papers arrive as multipart/form-data;
 * everything else is JSON. Reads are for staff unless `?audience=public` asks for exactly what
 * the public see.
 */
import { errorResponseSchema, errorResponses } from '../core/http/errors.js';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { NotFoundError, UserError, ValidationError } from '../core/errors.js';
import { ANONYMOUS_ACTOR } from '../structure/api.js';
import { loadStructure } from '../structure/repository.js';
import { conflicts, quorum } from './checks.js';
import {
  addAction,
  addAgendaItem,
  addGift,
  addInterest,
  addInvolvement,
  addPaper,
  addPaperVersion,
  approveMinutes,
  closeAction,
  linkInvolvement,
  publishMinutes,
  publishPaper,
  recordAttendance,
  recordDeclaration,
  recordDecision,
  saveMinutesDraft,
  scheduleMeeting,
  setMeetingStatus,
  type Upload,
} from './commands.js';
import {
  AGENDA_PARTS,
  ATTENDANCE_STATUSES,
  type Audience,
  DECISION_METHODS,
  HANDLING,
  INTEREST_KINDS,
  INVOLVEMENT_KINDS,
  ITEM_PURPOSES,
  MEETING_STATUSES,
  OUTCOMES,
  VOTES,
} from './model.js';
import { MAX_PAPER_BYTES } from './papers.js';
import { getDecision, listInvolvement, listMeetings, loadMeeting, paperFile, registerOfGifts, registerOfInterests, searchDecisions } from './repository.js';

const tags = ['governance'];
const PREFIX = '/api/ics/:ics/governance';

const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'A calendar date, YYYY-MM-DD' } as const;
const dateTime = {
  type: 'string',
  minLength: 1,
  maxLength: 40,
  description: 'A date and time: ISO 8601 with a zone (2026-12-03T10:00:00Z), or local UK time without one (2026-12-03T10:00)',
} as const;
const id = { type: 'string', minLength: 1, maxLength: 200 } as const;
const shortText = { type: 'string', maxLength: 300 } as const;
const longText = { type: 'string', maxLength: 20_000 } as const;
const keys = (o: object): string[] => Object.keys(o);
const anyObject = { type: 'object', additionalProperties: true } as const;
const errorResponse = errorResponseSchema;
const errors = errorResponses;
const uploadErrors = { ...errors, 413: errorResponse } as const;

/** The path parameters: the ICS code and the named ids. */
const params = (...names: string[]): { type: 'object'; required: string[]; properties: Record<string, { type: 'string'; description?: string }> } => {
  const properties: Record<string, { type: 'string'; description?: string }> = { ics: { type: 'string', description: 'The ICB ODS code, e.g. QGH' } };
  for (const n of names) properties[n] = { type: 'string' };
  return { type: 'object', required: ['ics', ...names], properties };
};
const audienceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { audience: { type: 'string', enum: ['staff', 'public'], description: 'public: only what the public may see' } },
} as const;
const file = { type: 'string', format: 'binary', description: `The file: a PDF, or Markdown (.md) text; at most ${MAX_PAPER_BYTES / 1024 / 1024} MB` } as const;

interface IcsParams {
  ics: string;
}
interface AudienceQuery {
  audience?: Audience;
}

/** A real calendar date or a 422 naming the field (so no bad date reaches the database). */
function realDate(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) throw ValidationError.field(field, 'Give a real date, YYYY-MM-DD');
  return value;
}

/** Multipart upload problems, named by the field to fix. */
function uploadProblem(error: unknown): UserError | null {
  const code = (error as { code?: unknown }).code;
  const mb = MAX_PAPER_BYTES / 1024 / 1024;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new UserError(413, `The file is too large: it must be smaller than ${mb} MB`, [{ field: 'file', message: `The file must be smaller than ${mb} MB` }]);
    case 'FST_FILES_LIMIT':
      return new UserError(413, 'Upload one file at a time', [{ field: 'file', message: 'Upload one file at a time' }]);
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new UserError(413, 'The form has too many fields', [{ field: 'body', message: 'The form has too many fields' }]);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PROTO_VIOLATION':
      return new UserError(400, 'The upload is not a well-formed multipart/form-data request', [{ field: 'file', message: 'Send the file as multipart/form-data' }]);
    default:
      return null;
  }
}

export async function registerGovernanceApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (api) => {
    // Uploaded files, by request: the multipart body carries only the file's name, so the JSON
    // schema can check the form like any other body.
    const uploads = new WeakMap<FastifyRequest, Upload>();
    await api.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: MAX_PAPER_BYTES, files: 1, fields: 10, parts: 12 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'file') uploads.set(this, { filename: part.filename || 'paper', bytes });
        (part as unknown as { value: string }).value = part.filename || 'paper';
      },
    });
    // Turn multipart's own errors into problems naming the field, then let the app's handler answer.
    api.setErrorHandler((error) => {
      throw uploadProblem(error) ?? error;
    });
    const uploaded = (request: FastifyRequest): Upload => {
      const found = uploads.get(request);
      if (!found) throw ValidationError.field('file', 'Send the paper as a file in a multipart/form-data request');
      return found;
    };

    /** The ICS code, upper-cased, once it is known to exist (404 otherwise). */
    const icsOf = async (request: FastifyRequest<{ Params: IcsParams }>): Promise<string> => {
      const code = request.params.ics.toUpperCase();
      if ((await ctx.db.query('SELECT 1 FROM ics WHERE code = $1', [code])).rowCount === 0) throw new NotFoundError(`ICS ${request.params.ics}`);
      return code;
    };

    /** A meeting as the audience may see it, with its quorum, and for staff the conflict-of-interest flags. */
    const meetingView = async (ics: string, meetingId: string, audience: Audience): Promise<Record<string, unknown>> => {
      const record = await loadMeeting(ctx.db, ics, meetingId, audience);
      const s = await loadStructure(ctx.db, ics);
      const body = s.bodies.find((b) => b.id === record.meeting.bodyId);
      const onDate = record.meeting.startsAt.toISOString().slice(0, 10);
      const q = body ? quorum(s, body, record.attendance, onDate) : null;
      const { interests, ...rest } = record;
      if (audience === 'public') return { ...rest, bodyName: body?.name ?? null, quorum: q };
      const flags = body ? conflicts(s, body, record.items, record.attendance, interests, record.declarations, onDate) : [];
      return { ...rest, interests, bodyName: body?.name ?? null, quorum: q, conflicts: flags };
    };
    const meetingAfterEdit = async (reply: FastifyReply, ics: string, meetingId: string, status: number, extra: Record<string, unknown> = {}): Promise<FastifyReply> =>
      reply.status(status).send({ ...extra, meeting: await meetingView(ics, meetingId, 'staff') });

    // ---- meetings -------------------------------------------------------------------------------

    api.get<{ Params: IcsParams; Querystring: { body?: string; from?: string; to?: string } }>(
      `${PREFIX}/meetings`,
      {
        schema: {
          tags,
          summary: 'Meetings of the bodies of the ICS, earliest first (from and to are inclusive dates)',
          params: params(),
          querystring: { type: 'object', additionalProperties: false, properties: { body: { type: 'string', description: 'A body id' }, from: date, to: date } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const ics = await icsOf(request);
        const from = realDate('from', request.query.from);
        const to = realDate('to', request.query.to);
        const meetings = await listMeetings(ctx.db, ics, {
          bodyId: request.query.body,
          from: from ? new Date(`${from}T00:00:00Z`) : undefined,
          to: to ? new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000) : undefined,
        });
        return { meetings };
      },
    );

    api.post<{ Params: IcsParams; Body: { bodyId: string; title?: string; startsAt: string; endsAt?: string; venue?: string; onlineUrl?: string } }>(
      `${PREFIX}/meetings`,
      {
        schema: {
          tags,
          summary: 'Schedule a meeting of a body: a venue, an online link (https), or both',
          params: params(),
          body: {
            type: 'object',
            required: ['bodyId', 'startsAt'],
            additionalProperties: false,
            properties: { bodyId: id, title: shortText, startsAt: dateTime, endsAt: dateTime, venue: shortText, onlineUrl: { type: 'string', maxLength: 2000 } },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const meetingId = await scheduleMeeting(ctx.db, ics, request.body, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, meetingId, 201, { id: meetingId });
      },
    );

    api.get<{ Params: IcsParams & { meetingId: string }; Querystring: AudienceQuery }>(
      `${PREFIX}/meetings/:meetingId`,
      {
        schema: {
          tags,
          summary: 'A meeting: agenda, papers, attendance and quorum, declarations, decisions, actions and minutes (staff also see conflict flags)',
          params: params('meetingId'),
          querystring: audienceQuery,
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => meetingView(await icsOf(request), request.params.meetingId, request.query.audience ?? 'staff'),
    );

    api.post<{ Params: IcsParams & { meetingId: string }; Body: { status: string } }>(
      `${PREFIX}/meetings/:meetingId/status`,
      {
        schema: {
          tags,
          summary: 'Mark a meeting scheduled, held (once it has started) or cancelled',
          params: params('meetingId'),
          body: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string', enum: keys(MEETING_STATUSES) } } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await setMeetingStatus(ctx.db, ics, request.params.meetingId, request.body.status, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 200);
      },
    );

    api.post<{
      Params: IcsParams & { meetingId: string };
      Body: { part: string; title: string; purpose: string; privateReason?: string; presenter?: string; description?: string; concerns?: string[]; functionId?: string };
    }>(
      `${PREFIX}/meetings/:meetingId/items`,
      {
        schema: {
          tags,
          summary: 'Add an item to the agenda. A private item needs the reason the public are excluded.',
          params: params('meetingId'),
          body: {
            type: 'object',
            required: ['part', 'title', 'purpose'],
            additionalProperties: false,
            properties: {
              part: { type: 'string', enum: keys(AGENDA_PARTS) },
              title: shortText,
              purpose: { type: 'string', enum: keys(ITEM_PURPOSES) },
              privateReason: { type: 'string', maxLength: 1000 },
              presenter: shortText,
              description: longText,
              concerns: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 20 }, description: 'Codes of the organisations the item concerns (drives the conflict flags)' },
              functionId: { type: 'string', maxLength: 200, description: 'The function in the functions and decisions map a decision would exercise' },
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const itemId = await addAgendaItem(ctx.db, ics, request.params.meetingId, request.body, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 201, { id: itemId });
      },
    );

    // ---- papers ---------------------------------------------------------------------------------

    api.post<{ Params: IcsParams & { itemId: string }; Body: { title: string; file: string } }>(
      `${PREFIX}/items/:itemId/papers`,
      {
        schema: {
          tags,
          summary: 'Upload a paper for an agenda item (multipart/form-data: title, file). PDF or Markdown only; not published until you publish it.',
          consumes: ['multipart/form-data'],
          params: params('itemId'),
          body: { type: 'object', required: ['title', 'file'], additionalProperties: false, properties: { title: shortText, file } },
          response: { 201: anyObject, ...uploadErrors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const paperId = await addPaper(ctx.db, ics, request.params.itemId, { title: request.body.title, file: uploaded(request) }, ANONYMOUS_ACTOR);
        return reply.status(201).send({ id: paperId, version: 1 });
      },
    );

    api.post<{ Params: IcsParams & { paperId: string }; Body: { file: string; reason?: string } }>(
      `${PREFIX}/papers/:paperId/versions`,
      {
        schema: {
          tags,
          summary: 'Upload a new version of a paper (multipart/form-data: file, reason). Replacing a published paper needs a reason, shown with the new version.',
          consumes: ['multipart/form-data'],
          params: params('paperId'),
          body: { type: 'object', required: ['file'], additionalProperties: false, properties: { file, reason: { type: 'string', maxLength: 1000 } } },
          response: { 201: anyObject, ...uploadErrors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const version = await addPaperVersion(ctx.db, ics, request.params.paperId, { file: uploaded(request), reason: request.body.reason }, ANONYMOUS_ACTOR);
        return reply.status(201).send({ paperId: request.params.paperId, version });
      },
    );

    api.post<{ Params: IcsParams & { paperId: string } }>(
      `${PREFIX}/papers/:paperId/publish`,
      { schema: { tags, summary: 'Publish the latest version of a paper (earlier published versions stay published)', params: params('paperId'), response: { 200: anyObject, ...errors } } },
      async (request) => {
        const ics = await icsOf(request);
        return { paperId: request.params.paperId, version: await publishPaper(ctx.db, ics, request.params.paperId, ANONYMOUS_ACTOR) };
      },
    );

    api.get<{ Params: IcsParams & { paperId: string; version: string }; Querystring: AudienceQuery }>(
      `${PREFIX}/papers/:paperId/versions/:version`,
      {
        schema: {
          tags,
          summary: 'Download one version of a paper (the public may fetch published versions of papers for public items only)',
          params: params('paperId', 'version'),
          querystring: audienceQuery,
          response: errors,
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        if (!/^[1-9]\d{0,5}$/.test(request.params.version)) throw new NotFoundError(`Paper ${request.params.paperId} version ${request.params.version}`);
        const paper = await paperFile(ctx.db, ics, request.params.paperId, Number(request.params.version), request.query.audience ?? 'staff');
        return reply
          .type(paper.format === 'pdf' ? 'application/pdf' : 'text/markdown; charset=utf-8')
          .header('content-disposition', `${paper.format === 'pdf' ? 'inline' : 'attachment'}; filename="${paper.filename}"`)
          .header('x-content-type-options', 'nosniff')
          .header('etag', `"${paper.sha256}"`)
          .header('cache-control', 'private, no-cache')
          .send(paper.content);
      },
    );

    // ---- attendance, registers, declarations -----------------------------------------------------

    api.post<{ Params: IcsParams & { meetingId: string }; Body: { attendance: { personId: string; status: string }[] } }>(
      `${PREFIX}/meetings/:meetingId/attendance`,
      {
        schema: {
          tags,
          summary: 'Record who attended (present, apologies, absent, in attendance); answers with the quorum',
          params: params('meetingId'),
          body: {
            type: 'object',
            required: ['attendance'],
            additionalProperties: false,
            properties: {
              attendance: {
                type: 'array',
                minItems: 1,
                maxItems: 200,
                items: { type: 'object', required: ['personId', 'status'], additionalProperties: false, properties: { personId: id, status: { type: 'string', enum: keys(ATTENDANCE_STATUSES) } } },
              },
            },
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await recordAttendance(ctx.db, ics, request.params.meetingId, request.body.attendance, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 200);
      },
    );

    api.get<{ Params: IcsParams }>(`${PREFIX}/interests`, { schema: { tags, summary: 'The register of interests, current first', params: params(), response: { 200: anyObject, ...errors } } }, async (request) => ({
      interests: await registerOfInterests(ctx.db, await icsOf(request)),
    }));

    api.post<{ Params: IcsParams; Body: { personId: string; kind: string; description: string; orgCodes?: string[]; startDate: string; endDate?: string; declaredOn?: string } }>(
      `${PREFIX}/interests`,
      {
        schema: {
          tags,
          summary: "Add an interest to the register; orgCodes name the organisations it concerns",
          params: params(),
          body: {
            type: 'object',
            required: ['personId', 'kind', 'description', 'startDate'],
            additionalProperties: false,
            properties: {
              personId: id,
              kind: { type: 'string', enum: keys(INTEREST_KINDS) },
              description: { type: 'string', maxLength: 2000 },
              orgCodes: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 20 } },
              startDate: date,
              endDate: date,
              declaredOn: date,
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => reply.status(201).send({ id: await addInterest(ctx.db, await icsOf(request), request.body, ANONYMOUS_ACTOR) }),
    );

    api.get<{ Params: IcsParams }>(`${PREFIX}/gifts`, { schema: { tags, summary: 'The register of gifts and hospitality, newest first', params: params(), response: { 200: anyObject, ...errors } } }, async (request) => ({
      gifts: await registerOfGifts(ctx.db, await icsOf(request)),
    }));

    api.post<{ Params: IcsParams; Body: { personId: string; kind: string; description: string; offeredBy: string; valuePounds: number; offeredOn: string; accepted: boolean } }>(
      `${PREFIX}/gifts`,
      {
        schema: {
          tags,
          summary: 'Add a gift or hospitality offered (accepted or declined) to the register',
          params: params(),
          body: {
            type: 'object',
            required: ['personId', 'kind', 'description', 'offeredBy', 'valuePounds', 'offeredOn', 'accepted'],
            additionalProperties: false,
            properties: {
              personId: id,
              kind: { type: 'string', enum: ['gift', 'hospitality'] },
              description: { type: 'string', maxLength: 2000 },
              offeredBy: shortText,
              valuePounds: { type: 'number', minimum: 0, maximum: 99_999_999 },
              offeredOn: date,
              accepted: { type: 'boolean' },
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => reply.status(201).send({ id: await addGift(ctx.db, await icsOf(request), request.body, ANONYMOUS_ACTOR) }),
    );

    api.post<{ Params: IcsParams & { meetingId: string }; Body: { agendaItemId: string; personId: string; interestId?: string; description?: string; handling: string } }>(
      `${PREFIX}/meetings/:meetingId/declarations`,
      {
        schema: {
          tags,
          summary: 'Record a declaration of interest on an agenda item and how it was handled',
          params: params('meetingId'),
          body: {
            type: 'object',
            required: ['agendaItemId', 'personId', 'handling'],
            additionalProperties: false,
            properties: { agendaItemId: id, personId: id, interestId: id, description: { type: 'string', maxLength: 2000 }, handling: { type: 'string', enum: keys(HANDLING) } },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const declarationId = await recordDeclaration(ctx.db, ics, request.params.meetingId, request.body, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 201, { id: declarationId });
      },
    );

    // ---- decisions ------------------------------------------------------------------------------

    api.post<{
      Params: IcsParams & { meetingId: string };
      Body: { agendaItemId: string; title: string; text: string; method: string; outcome: string; topic?: string; votes?: { personId: string; vote: string }[]; decidedAt?: string };
    }>(
      `${PREFIX}/meetings/:meetingId/decisions`,
      {
        schema: {
          tags,
          summary: 'Record a decision on an item. Refused without a quorum or with votes by people who may not vote; flagged if the body lacks delegated authority.',
          params: params('meetingId'),
          body: {
            type: 'object',
            required: ['agendaItemId', 'title', 'text', 'method', 'outcome'],
            additionalProperties: false,
            properties: {
              agendaItemId: id,
              title: shortText,
              text: longText,
              method: { type: 'string', enum: keys(DECISION_METHODS) },
              outcome: { type: 'string', enum: keys(OUTCOMES) },
              topic: { type: 'string', maxLength: 100 },
              votes: {
                type: 'array',
                maxItems: 200,
                items: { type: 'object', required: ['personId', 'vote'], additionalProperties: false, properties: { personId: id, vote: { type: 'string', enum: keys(VOTES) } } },
              },
              decidedAt: dateTime,
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const recorded = await recordDecision(ctx.db, ics, request.params.meetingId, request.body, ANONYMOUS_ACTOR);
        return reply.status(201).send({ ...recorded, decision: await getDecision(ctx.db, ics, recorded.id, 'staff') });
      },
    );

    api.get<{ Params: IcsParams; Querystring: AudienceQuery & { q?: string; body?: string; from?: string; to?: string; org?: string; topic?: string } }>(
      `${PREFIX}/decisions`,
      {
        schema: {
          tags,
          summary: 'The decisions log, newest first: search by words, body, dates (inclusive), organisation concerned and topic',
          params: params(),
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...audienceQuery.properties,
              q: { type: 'string', maxLength: 200, description: 'Words in the title, text, topic or item' },
              body: { type: 'string', description: 'A body id' },
              from: date,
              to: date,
              org: { type: 'string', maxLength: 20, description: 'Code of an organisation the item concerned' },
              topic: { type: 'string', maxLength: 100 },
            },
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const ics = await icsOf(request);
        const { q, body, org, topic, audience } = request.query;
        const search = { q: q?.trim() || undefined, bodyId: body, from: realDate('from', request.query.from), to: realDate('to', request.query.to), orgCode: org, topic };
        return { decisions: await searchDecisions(ctx.db, ics, search, audience ?? 'staff') };
      },
    );

    api.get<{ Params: IcsParams & { decisionId: string }; Querystring: AudienceQuery }>(
      `${PREFIX}/decisions/:decisionId`,
      { schema: { tags, summary: 'One decision with its votes, authority flag and the involvement that informed it', params: params('decisionId'), querystring: audienceQuery, response: { 200: anyObject, ...errors } } },
      async (request) => getDecision(ctx.db, await icsOf(request), request.params.decisionId, request.query.audience ?? 'staff'),
    );

    // ---- actions and minutes --------------------------------------------------------------------

    api.post<{ Params: IcsParams & { meetingId: string }; Body: { description: string; ownerPersonId: string; dueDate: string; agendaItemId?: string } }>(
      `${PREFIX}/meetings/:meetingId/actions`,
      {
        schema: {
          tags,
          summary: 'Raise an action at a meeting; it is carried forward to later meetings of the body until closed',
          params: params('meetingId'),
          body: { type: 'object', required: ['description', 'ownerPersonId', 'dueDate'], additionalProperties: false, properties: { description: { type: 'string', maxLength: 2000 }, ownerPersonId: id, dueDate: date, agendaItemId: id } },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const actionId = await addAction(ctx.db, ics, request.params.meetingId, request.body, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 201, { id: actionId });
      },
    );

    api.post<{ Params: IcsParams & { actionId: string }; Body: { meetingId: string; note: string } }>(
      `${PREFIX}/actions/:actionId/close`,
      {
        schema: {
          tags,
          summary: 'Close an action at a meeting of the same body, held on or after the one that raised it',
          params: params('actionId'),
          body: { type: 'object', required: ['meetingId', 'note'], additionalProperties: false, properties: { meetingId: id, note: { type: 'string', maxLength: 2000 } } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await closeAction(ctx.db, ics, request.params.actionId, request.body, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.body.meetingId, 200, { id: request.params.actionId });
      },
    );

    api.put<{ Params: IcsParams & { meetingId: string }; Body: { content: string } }>(
      `${PREFIX}/meetings/:meetingId/minutes`,
      {
        schema: {
          tags,
          summary: 'Save the draft minutes of a meeting (approved minutes cannot be changed)',
          params: params('meetingId'),
          body: { type: 'object', required: ['content'], additionalProperties: false, properties: { content: { type: 'string', maxLength: 200_000 } } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await saveMinutesDraft(ctx.db, ics, request.params.meetingId, request.body.content, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 200);
      },
    );

    api.post<{ Params: IcsParams & { meetingId: string }; Body: { atMeetingId: string } }>(
      `${PREFIX}/meetings/:meetingId/minutes/approve`,
      {
        schema: {
          tags,
          summary: 'Approve the minutes at a later, quorate meeting of the same body',
          params: params('meetingId'),
          body: { type: 'object', required: ['atMeetingId'], additionalProperties: false, properties: { atMeetingId: id } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await approveMinutes(ctx.db, ics, request.params.meetingId, request.body.atMeetingId, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 200);
      },
    );

    api.post<{ Params: IcsParams & { meetingId: string } }>(
      `${PREFIX}/meetings/:meetingId/minutes/publish`,
      { schema: { tags, summary: 'Publish approved minutes', params: params('meetingId'), response: { 200: anyObject, ...errors } } },
      async (request, reply) => {
        const ics = await icsOf(request);
        await publishMinutes(ctx.db, ics, request.params.meetingId, ANONYMOUS_ACTOR);
        return meetingAfterEdit(reply, ics, request.params.meetingId, 200);
      },
    );

    // ---- public involvement ---------------------------------------------------------------------

    api.get<{ Params: IcsParams; Querystring: AudienceQuery }>(
      `${PREFIX}/involvement`,
      { schema: { tags, summary: 'Public involvement, newest first, with the decisions it informed', params: params(), querystring: audienceQuery, response: { 200: anyObject, ...errors } } },
      async (request) => ({ involvement: await listInvolvement(ctx.db, await icsOf(request), request.query.audience ?? 'staff') }),
    );

    api.post<{ Params: IcsParams; Body: { kind: string; title: string; summary: string; heldOn: string; participants?: number; orgCode?: string; url?: string } }>(
      `${PREFIX}/involvement`,
      {
        schema: {
          tags,
          summary: "Record public involvement: a citizens' panel, survey, Healthwatch report, engagement event, co-production or consultation",
          params: params(),
          body: {
            type: 'object',
            required: ['kind', 'title', 'summary', 'heldOn'],
            additionalProperties: false,
            properties: {
              kind: { type: 'string', enum: keys(INVOLVEMENT_KINDS) },
              title: shortText,
              summary: longText,
              heldOn: date,
              participants: { type: 'integer', minimum: 0 },
              orgCode: { type: 'string', maxLength: 20 },
              url: { type: 'string', maxLength: 2000 },
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => reply.status(201).send({ id: await addInvolvement(ctx.db, await icsOf(request), request.body, ANONYMOUS_ACTOR) }),
    );

    api.post<{ Params: IcsParams & { involvementId: string }; Body: { decisionId: string; howUsed: string } }>(
      `${PREFIX}/involvement/:involvementId/decisions`,
      {
        schema: {
          tags,
          summary: 'Link involvement to a decision it informed, saying how people’s views were used',
          params: params('involvementId'),
          body: { type: 'object', required: ['decisionId', 'howUsed'], additionalProperties: false, properties: { decisionId: id, howUsed: { type: 'string', maxLength: 2000 } } },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const ics = await icsOf(request);
        await linkInvolvement(ctx.db, ics, request.params.involvementId, request.body.decisionId, request.body.howUsed, ANONYMOUS_ACTOR);
        return getDecision(ctx.db, ics, request.body.decisionId, 'staff');
      },
    );
  });
}
