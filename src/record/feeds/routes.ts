/**
 * The partner feeds' dead-letter queue, for the operators of the shared care record: an
 * administrator at the ICB, which runs the platform for the ICS (a partner's own administrator
 * would see other partners' patients in the queue; a privacy officer reviews access, not data).
 *
 *   GET  /record/feeds/dead-letters                  the queue (open by default; ?state=replayed|discarded|all)
 *   GET  /record/feeds/dead-letters/:id              one letter: who sent it, the outcome, the body to correct
 *   POST /record/feeds/dead-letters/:id              save a corrected body (checked as the FHIR API would)
 *   POST /record/feeds/dead-letters/:id/replay       submit it again as its sender
 *   POST /record/feeds/dead-letters/:id/discard      close it with a reason
 *   GET  /api/record/feeds/dead-letters[/:id]        the same as JSON; PUT …/:id/body, POST …/:id/replay, …/:id/discard
 *
 * Each look at a letter's body is recorded in the audit trail with the residents it names.
 */
import { requestAccess } from '../../access/audit/guard.js';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { recordAccess } from '../../access/audit/trail.js';
import type { AccessContext } from '../../access/context.js';
import type { AccessRule } from '../../access/identity/rules.js';
import { UserError } from '../../core/errors.js';
import type { Issue } from '../../fhir/outcome.js';
import { FhirStore } from '../../fhir/store.js';
import { HTML, pageErrorHandler, SHARED_ERROR_PAGES } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import {
  type DeadLetter,
  type DeadLetterState,
  checkCorrectedBody,
  closeDeadLetter,
  findDeadLetter,
  listDeadLetters,
  noteFailedReplay,
  patientsIn,
  saveCorrectedBody,
} from './dead-letters.js';
import { replayDeadLetter } from './replay.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
export const FEED_OPERATORS: AccessRule = { who: 'staff', roles: ['administrator'], purpose: 'handle the partner feeds’ refused messages' };
const MAX_REASON = 500;
const STATES = new Set(['open', 'replayed', 'discarded', 'all']);

/** An administrator acting at an ICB, or a refusal. */
async function requireOperator(context: AppContext, request: FastifyRequest): Promise<AccessContext> {
  const access = requestAccess(request);
  if (access.kind === 'anonymous') throw new UserError(401, 'Sign in to see this');
  if (access.kind !== 'user' || access.role !== 'administrator' || !access.organisation) throw new UserError(403, 'Only an administrator at the ICB may handle the partner feeds’ refused messages');
  const { rows } = await context.db.query<{ kind: string }>('SELECT kind FROM organisation WHERE code = $1', [access.organisation]);
  if (rows[0]?.kind !== 'icb') throw new UserError(403, 'Only an administrator at the ICB may handle the partner feeds’ refused messages');
  return access;
}

async function letterOr404(context: AppContext, id: string): Promise<DeadLetter> {
  const letter = await findDeadLetter(context.db, id);
  if (!letter) throw new UserError(404, 'There is no such refused message');
  return letter;
}

/** Records a look at (or an action on) a letter's body: it is patient data. */
async function audit(context: AppContext, request: FastifyRequest, access: AccessContext, letter: DeadLetter, action: string, outcome: 'success' | 'failure' = 'success', detail?: string): Promise<void> {
  await recordAccess(context.db, {
    context: access,
    action,
    outcome,
    patients: patientsIn(letter.body),
    what: `record/feeds/dead-letters/${letter.id}`,
    ...(detail ? { detail } : {}),
    at: new Date(),
    network: request.ip,
  });
}

function fhirBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/fhir`;
}

function operatorName(access: AccessContext): string {
  return access.subject;
}

/** Replays a letter; closes it when the data landed, keeps it open with the new outcome otherwise. */
async function replay(context: AppContext, request: FastifyRequest, access: AccessContext, letter: DeadLetter): Promise<{ ok: boolean; status: number; outcome: unknown }> {
  if (letter.state !== 'open') throw new UserError(409, `This message was already ${letter.state}; it cannot be replayed again`);
  const result = await replayDeadLetter(context.db, letter, { baseUrl: fhirBase(request), requestId: request.id });
  if (result.ok) {
    if (!(await closeDeadLetter(context.db, letter.id, 'replayed', operatorName(access)))) throw new UserError(409, 'This message was closed by someone else meanwhile');
  } else {
    await noteFailedReplay(context.db, letter.id, result.status, result.outcome);
  }
  await audit(context, request, access, letter, 'feed-replay', result.ok ? 'success' : 'failure');
  return result;
}

function issueTexts(issues: readonly Issue[]): string[] {
  return issues.map((i) => `${i.diagnostics ?? i.code}${i.expression ? ` (${i.expression})` : ''}`);
}

function outcomeTexts(outcome: unknown): string[] {
  const issues = (outcome as { issue?: Array<{ diagnostics?: string; code?: string; expression?: string[] }> }).issue ?? [];
  return issues.map((i) => `${i.diagnostics ?? i.code ?? ''}${i.expression?.length ? ` (${i.expression.join(', ')})` : ''}`);
}

function summaryOf(letter: Omit<DeadLetter, 'body'>): Record<string, unknown> {
  return {
    id: letter.id,
    receivedAt: letter.receivedAt,
    client: { id: letter.clientId, name: letter.clientName, organisation: letter.organisation },
    request: { method: letter.method, endpoint: letter.endpoint, contentType: letter.contentType },
    status: letter.status,
    outcome: letter.outcome,
    state: letter.state,
    editedAt: letter.editedAt,
    editedBy: letter.editedBy,
    actedAt: letter.actedAt,
    actedBy: letter.actedBy,
    reason: letter.reason,
  };
}

function stateOf(raw: unknown): DeadLetterState | undefined {
  const state = typeof raw === 'string' && STATES.has(raw) ? raw : 'open';
  return state === 'all' ? undefined : (state as DeadLetterState);
}

export async function registerFeedRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const config = { access: FEED_OPERATORS };
  const hidden = { schema: { hide: true }, config };

  // ---- JSON -------------------------------------------------------------------------------
  app.get<{ Querystring: { state?: string } }>('/api/record/feeds/dead-letters', hidden, async (request) => {
    await requireOperator(context, request);
    const state = request.query.state;
    if (state !== undefined && !STATES.has(state)) throw new UserError(422, 'state must be open, replayed, discarded or all');
    const letters = await listDeadLetters(context.db, { state: stateOf(state) });
    return { deadLetters: letters.map((l) => ({ ...summaryOf(l), bytes: l.bytes })) };
  });
  app.get<{ Params: { id: string } }>('/api/record/feeds/dead-letters/:id', hidden, async (request) => {
    const access = await requireOperator(context, request);
    const letter = await letterOr404(context, request.params.id);
    await audit(context, request, access, letter, 'feed-dead-letter-read');
    return { ...summaryOf(letter), body: letter.body };
  });
  app.put<{ Params: { id: string }; Body: unknown }>('/api/record/feeds/dead-letters/:id/body', hidden, async (request) => {
    const access = await requireOperator(context, request);
    const letter = await letterOr404(context, request.params.id);
    const body = (request.body as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string') throw new UserError(422, 'Send { "body": "…" }: the corrected message as text', [{ field: 'body', message: 'the corrected message, as text' }]);
    const issues = checkCorrectedBody(new FhirStore(context.db), letter, body);
    if (issues.length > 0) throw new UserError(422, 'The corrected message is not valid', issues.slice(0, 50).map((i) => ({ field: 'body', message: issueTexts([i])[0] as string })));
    if (letter.state !== 'open' || !(await saveCorrectedBody(context.db, letter.id, body, operatorName(access)))) throw new UserError(409, `This message was already ${letter.state}`);
    await audit(context, request, access, { ...letter, body }, 'feed-dead-letter-correct');
    return summaryOf((await findDeadLetter(context.db, letter.id)) as DeadLetter);
  });
  app.post<{ Params: { id: string } }>('/api/record/feeds/dead-letters/:id/replay', hidden, async (request, reply) => {
    const access = await requireOperator(context, request);
    const letter = await letterOr404(context, request.params.id);
    const result = await replay(context, request, access, letter);
    return reply.status(result.ok ? 200 : 422).send({ replayed: result.ok, status: result.status, outcome: result.outcome });
  });
  app.post<{ Params: { id: string }; Body: unknown }>('/api/record/feeds/dead-letters/:id/discard', hidden, async (request) => {
    const access = await requireOperator(context, request);
    const letter = await letterOr404(context, request.params.id);
    const reason = (request.body as { reason?: unknown } | undefined)?.reason;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) throw new UserError(422, 'Give a reason for discarding it', [{ field: 'reason', message: `why it is discarded, 1 to ${MAX_REASON} characters` }]);
    if (!(await closeDeadLetter(context.db, letter.id, 'discarded', operatorName(access), reason.trim()))) throw new UserError(409, `This message was already ${letter.state}`);
    await audit(context, request, access, letter, 'feed-dead-letter-discard');
    return summaryOf((await findDeadLetter(context.db, letter.id)) as DeadLetter);
  });

  // ---- pages ------------------------------------------------------------------------------
  const render = createRenderer([VIEWS]);
  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, SHARED_ERROR_PAGES));
    const send = (reply: FastifyReply, template: string, locals: Record<string, unknown>, status = 200): FastifyReply => reply.status(status).type(HTML).send(render(template, locals));
    const crumbs = [{ href: '/', text: 'Home' }];

    scope.get<{ Querystring: { state?: string; done?: string } }>('/record/feeds/dead-letters', hidden, async (request, reply) => {
      await requireOperator(context, request);
      const state = stateOf(request.query.state);
      const letters = await listDeadLetters(context.db, { state });
      return send(reply, 'dead-letters.njk', { title: 'Refused partner feed messages', crumbs, letters, state: state ?? 'all', done: request.query.done });
    });

    const letterPage = async (request: FastifyRequest, reply: FastifyReply, access: AccessContext, letter: DeadLetter, extra: { body?: string; problems?: string[]; replayProblems?: string[]; reasonProblem?: string; reason?: string } = {}, status = 200): Promise<FastifyReply> => {
      await audit(context, request, access, letter, 'feed-dead-letter-read');
      const errors = [
        ...(extra.problems ?? []).map((text) => ({ text, href: '#dead-letter-body' })),
        ...(extra.replayProblems ?? []).map((text) => ({ text, href: '#replay' })),
        ...(extra.reasonProblem ? [{ text: extra.reasonProblem, href: '#discard-reason' }] : []),
      ];
      return send(
        reply,
        'dead-letter.njk',
        {
          title: `Refused message ${letter.id}`,
          crumbs: [...crumbs, { href: '/record/feeds/dead-letters', text: 'Refused partner feed messages' }],
          letter,
          body: extra.body ?? prettyBody(letter.body, letter.contentType),
          outcome: outcomeTexts(letter.outcome),
          errors,
          bodyError: extra.problems?.length ? extra.problems.slice(0, 5).join('; ') : undefined,
          reasonError: extra.reasonProblem,
          reason: extra.reason ?? '',
          maxReason: MAX_REASON,
        },
        status,
      );
    };

    scope.get<{ Params: { id: string } }>('/record/feeds/dead-letters/:id', hidden, async (request, reply) => {
      const access = await requireOperator(context, request);
      return letterPage(request, reply, access, await letterOr404(context, request.params.id));
    });
    scope.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/record/feeds/dead-letters/:id', hidden, async (request, reply) => {
      const access = await requireOperator(context, request);
      const letter = await letterOr404(context, request.params.id);
      const body = typeof request.body?.body === 'string' ? request.body.body.replaceAll('\r\n', '\n') : '';
      const issues = checkCorrectedBody(new FhirStore(context.db), letter, body);
      if (issues.length > 0) return letterPage(request, reply, access, letter, { body, problems: issueTexts(issues).slice(0, 20) }, 422);
      if (letter.state !== 'open' || !(await saveCorrectedBody(context.db, letter.id, compactBody(body, letter.contentType), operatorName(access)))) throw new UserError(409, `This message was already ${letter.state}`);
      return reply.redirect(`/record/feeds/dead-letters/${encodeURIComponent(letter.id)}`, 303);
    });
    scope.post<{ Params: { id: string } }>('/record/feeds/dead-letters/:id/replay', hidden, async (request, reply) => {
      const access = await requireOperator(context, request);
      const letter = await letterOr404(context, request.params.id);
      const result = await replay(context, request, access, letter);
      if (result.ok) return reply.redirect(`/record/feeds/dead-letters?done=replayed`, 303);
      const fresh = (await findDeadLetter(context.db, letter.id)) as DeadLetter;
      return letterPage(request, reply, access, fresh, { replayProblems: [`The replay was refused (${result.status}); the message stays in the queue`, ...outcomeTexts(result.outcome).slice(0, 10)] }, 422);
    });
    scope.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/record/feeds/dead-letters/:id/discard', hidden, async (request, reply) => {
      const access = await requireOperator(context, request);
      const letter = await letterOr404(context, request.params.id);
      const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim() : '';
      if (reason === '' || reason.length > MAX_REASON) return letterPage(request, reply, access, letter, { reasonProblem: reason === '' ? 'Enter why the message is discarded' : `The reason must be ${MAX_REASON} characters or fewer`, reason }, 422);
      if (!(await closeDeadLetter(context.db, letter.id, 'discarded', operatorName(access), reason))) throw new UserError(409, `This message was already ${letter.state}`);
      await audit(context, request, access, letter, 'feed-dead-letter-discard');
      return reply.redirect(`/record/feeds/dead-letters?done=discarded`, 303);
    });
  });
}

/** JSON indented for editing; NDJSON as it is (one resource per line). */
function prettyBody(body: string, contentType: string): string {
  if (contentType.includes('ndjson')) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** JSON stored compact again once it is known to parse. */
function compactBody(body: string, contentType: string): string {
  if (contentType.includes('ndjson')) return body;
  return JSON.stringify(JSON.parse(body));
}
