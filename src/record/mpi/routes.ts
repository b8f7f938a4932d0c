/**
 * Pages and API of the master patient index, for the people who run it:
 *
 *   GET  /record/matching                               the review queue: each possible match side by side, field by field, with the weights
 *   POST /record/matching/:id                           accept (link) or reject (not the same person), with a reason
 *   GET  /record/matching/:id/trace?patient=…           trace a source record on the PDS (the local stand-in here)
 *   GET  /record/matching/residents/:id                 a resident's source records and link history
 *   POST /record/matching/residents/:id/unmerge         take a source record out of the resident, with a reason
 *   GET  /api/record/matching                           the queue as JSON
 *   POST /api/record/matching/:id                       { decision: 'accept' | 'reject', reason }
 *   GET  /api/record/residents/:id/history              a resident's source records and events as JSON
 *   POST /api/record/residents/:id/merge                { from, reason }: merge resident `from` into this one
 *   POST /api/record/patients/:id/unmerge               { reason }
 *
 * Who: an administrator (data quality and records staff of an ICS's organisations act as
 * administrators; a clinician has no business merging people, and the index shows identifiable
 * demographics of people they may have no relationship with). Every view and decision is recorded
 * in the audit trail naming the source Patients shown or changed.
 */
import { requestAccess } from '../../access/audit/guard.js';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { recordAccess } from '../../access/audit/trail.js';
import type { AccessContext } from '../../access/context.js';
import type { AccessRule } from '../../access/identity/rules.js';
import { ValidationError } from '../../core/errors.js';
import { HTML, pageErrorHandler, SHARED_ERROR_PAGES } from '../../web/page-errors.js';
import { createRenderer, formatDate, formatNhsNumber } from '../../web/render.js';
import { LocalPds } from '../pds/index.js';
import { MIN_REASON_LENGTH, MpiError, acceptReview, mergeResidents, rejectReview, unmergePatient } from './merge.js';
import { type QueuedReview, openReviews, residentHistory, reviewById } from './queries.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
export const MPI_ACCESS: AccessRule = { who: 'staff', roles: ['administrator'], purpose: 'run the master patient index' };
const hidden = { schema: { hide: true }, config: { access: MPI_ACCESS } } as const;
const api = { schema: { hide: true }, config: { access: MPI_ACCESS } } as const;
const CRUMBS = [{ href: '/', text: 'Home' }];

const FIELD_NAMES: Record<string, string> = { nhsNumber: 'NHS number', family: 'Family name', given: 'Given names', birthDate: 'Date of birth', sex: 'Sex', postcode: 'Postcode', address: 'Address' };

/** Who did it, as the link history records it: the user's subject (never a name or patient identifier). */
function agentOf(access: AccessContext): string {
  return `${access.kind}:${access.subject}`;
}

function idParam(value: string, field: string): number {
  if (!/^\d{1,15}$/.test(value)) throw ValidationError.field(field, 'must be a review number');
  return Number(value);
}

function text(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

async function audit(context: AppContext, request: FastifyRequest, action: string, what: string, patients: string[]): Promise<void> {
  await recordAccess(context.db, { context: requestAccess(request), action, outcome: 'success', patients: [...new Set(patients)], what, at: new Date(), network: request.ip });
}

const patientsOf = (reviews: readonly QueuedReview[]): string[] => reviews.flatMap((r) => [r.patient.patientId, r.candidate.patientId]);

/** A review as the page shows it: the two records' fields side by side with each field's weight. */
function sideBySide(review: QueuedReview): Array<{ field: string; left: string; right: string; outcome: string; weight: string }> {
  const shown = (d: QueuedReview['patient']['demographics'], field: string): string => {
    const value = (d as unknown as Record<string, unknown>)[field];
    if (Array.isArray(value)) return value.join(' ');
    if (field === 'nhsNumber' && typeof value === 'string') return `${formatNhsNumber(value)}${d.nhsVerified ? ' (verified)' : ' (not verified)'}`;
    // Written as people read them, so a transposed day and month is seen at a glance.
    if (field === 'birthDate' && typeof value === 'string') return formatDate(value);
    return typeof value === 'string' ? value : '—';
  };
  return review.score.fields.map((f) => ({
    field: FIELD_NAMES[f.field] ?? f.field,
    left: shown(review.patient.demographics, f.field),
    right: shown(review.candidate.demographics, f.field),
    outcome: f.outcome.replaceAll('-', ' '),
    weight: `${f.weight >= 0 ? '+' : ''}${f.weight.toFixed(1)}`,
  }));
}

export async function registerMpiRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  registerMpiApi(app, context);
  const render = createRenderer([VIEWS]);
  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, SHARED_ERROR_PAGES));
    const page = (reply: FastifyReply, status: number, template: string, values: Record<string, unknown>): FastifyReply =>
      reply.status(status).type(HTML).header('cache-control', 'no-store').send(render(template, { crumbs: CRUMBS, ...values }));

    const queuePage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> => {
      const { reviews, total } = await openReviews(context.db, 20);
      await audit(context, request, 'read', 'mpi/review-queue', patientsOf(reviews));
      return page(reply, status, 'matching.njk', { title: 'Possible matches to review', reviews: reviews.map((r) => ({ ...r, rows: sideBySide(r) })), total, minReason: MIN_REASON_LENGTH, ...extra });
    };

    scope.get<{ Querystring: { done?: string } }>('/record/matching', hidden, async (request, reply) => queuePage(request, reply, { done: request.query.done }));

    scope.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/record/matching/:id', hidden, async (request, reply) => {
      const id = idParam(request.params.id, 'id');
      const decision = text(request.body, 'decision');
      const reason = text(request.body, 'reason');
      const review = await reviewById(context.db, id);
      if (!review) throw new MpiError(`review ${id} was not found`, 404, 'review');
      const problems: Record<string, string> = {};
      if (decision !== 'accept' && decision !== 'reject') problems.decision = 'Choose whether these are the same person';
      if (reason.trim().length < MIN_REASON_LENGTH) problems.reason = `Say why, in at least ${MIN_REASON_LENGTH} characters`;
      if (Object.keys(problems).length > 0) return queuePage(request, reply, { problems, problemReview: id, values: { decision, reason } }, 422);
      const by = agentOf(requestAccess(request));
      await context.db.transaction(async (tx) => {
        if (decision === 'accept') await acceptReview(tx, id, by, reason);
        else await rejectReview(tx, id, by, reason);
      });
      await audit(context, request, 'update', `mpi/review/${id}/${decision}`, [review.patient.patientId, review.candidate.patientId]);
      return reply.redirect(`/record/matching?done=${decision === 'accept' ? 'accepted' : 'rejected'}`, 303);
    });

    scope.get<{ Params: { id: string }; Querystring: { patient?: string } }>('/record/matching/:id/trace', hidden, async (request, reply) => {
      const id = idParam(request.params.id, 'id');
      const review = await reviewById(context.db, id);
      if (!review) throw new MpiError(`review ${id} was not found`, 404, 'review');
      const source = [review.patient, review.candidate].find((p) => p.patientId === request.query.patient);
      if (!source) throw ValidationError.field('patient', 'must be one of the two records of this review');
      const d = source.demographics;
      const found = d.family && d.birthDate ? await new LocalPds(context.db).trace({ family: d.family, given: d.given[0], birthDate: d.birthDate, sex: d.sex, postcode: d.postcode }) : [];
      await audit(context, request, 'search', 'PDS trace (mpi review)', [source.patientId]);
      return page(reply, 200, 'trace.njk', { title: 'Trace on the Personal Demographics Service', review, source, found, candidateNhs: [review.patient.nhsNumber, review.candidate.nhsNumber].filter((n) => n) });
    });

    const historyPage = async (request: FastifyRequest, reply: FastifyReply, residentId: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> => {
      const history = await residentHistory(context.db, residentId);
      if (!history) throw new MpiError('That resident was not found', 404, 'resident');
      await audit(context, request, 'read', `mpi/resident/${residentId}`, history.patients.map((p) => p.patientId));
      return page(reply, status, 'resident.njk', { title: 'A resident’s records and link history', history, minReason: MIN_REASON_LENGTH, ...extra });
    };

    scope.get<{ Params: { id: string }; Querystring: { done?: string } }>('/record/matching/residents/:id', hidden, async (request, reply) => historyPage(request, reply, request.params.id, { done: request.query.done }));

    scope.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/record/matching/residents/:id/unmerge', hidden, async (request, reply) => {
      const patient = text(request.body, 'patient');
      const reason = text(request.body, 'reason');
      const history = await residentHistory(context.db, request.params.id);
      if (!history) throw new MpiError('That resident was not found', 404, 'resident');
      const problems: Record<string, string> = {};
      if (!history.patients.some((p) => p.patientId === patient)) problems.patient = 'Choose a record of this resident';
      if (reason.trim().length < MIN_REASON_LENGTH) problems.reason = `Say why, in at least ${MIN_REASON_LENGTH} characters`;
      if (Object.keys(problems).length > 0) return historyPage(request, reply, request.params.id, { problems, values: { patient, reason } }, 422);
      const target = await context.db.transaction((tx) => unmergePatient(tx, patient, agentOf(requestAccess(request)), reason));
      await audit(context, request, 'update', `mpi/patient/${patient}/unmerge`, [patient]);
      return reply.redirect(`/record/matching/residents/${encodeURIComponent(target)}?done=unmerged`, 303);
    });
  });
}

function registerMpiApi(app: FastifyInstance, context: AppContext): void {
  app.get<{ Querystring: { _count?: string } }>('/api/record/matching', api, async (request) => {
    const count = request.query._count === undefined ? 20 : Number(request.query._count);
    if (!Number.isInteger(count) || count < 1 || count > 200) throw ValidationError.field('_count', 'must be a whole number from 1 to 200');
    const { reviews, total } = await openReviews(context.db, count);
    await audit(context, request, 'read', 'mpi/review-queue', patientsOf(reviews));
    return { total, reviews };
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/api/record/matching/:id', api, async (request) => {
    const id = idParam(request.params.id, 'id');
    const decision = text(request.body, 'decision');
    if (decision !== 'accept' && decision !== 'reject') throw ValidationError.field('decision', "must be 'accept' or 'reject'");
    const reason = text(request.body, 'reason');
    const review = await reviewById(context.db, id);
    if (!review) throw new MpiError(`review ${id} was not found`, 404, 'id');
    const by = agentOf(requestAccess(request));
    const resident = await context.db.transaction(async (tx) => {
      if (decision === 'accept') return acceptReview(tx, id, by, reason);
      await rejectReview(tx, id, by, reason);
      return review.patient.residentId;
    });
    await audit(context, request, 'update', `mpi/review/${id}/${decision}`, [review.patient.patientId, review.candidate.patientId]);
    return { review: id, decision, resident };
  });

  app.get<{ Params: { id: string } }>('/api/record/residents/:id/history', api, async (request) => {
    const history = await residentHistory(context.db, request.params.id);
    if (!history) throw new MpiError('resident was not found', 404, 'id');
    await audit(context, request, 'read', `mpi/resident/${request.params.id}`, history.patients.map((p) => p.patientId));
    return history;
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/api/record/residents/:id/merge', api, async (request) => {
    const from = text(request.body, 'from');
    if (from === '') throw ValidationError.field('from', 'is required: the resident to merge into this one');
    await context.db.transaction((tx) => mergeResidents(tx, from, request.params.id, agentOf(requestAccess(request)), text(request.body, 'reason')));
    const history = await residentHistory(context.db, request.params.id);
    await audit(context, request, 'update', `mpi/resident/${request.params.id}/merge`, history?.patients.map((p) => p.patientId) ?? []);
    return { resident: request.params.id, merged: from };
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/api/record/patients/:id/unmerge', api, async (request) => {
    const resident = await context.db.transaction((tx) => unmergePatient(tx, request.params.id, agentOf(requestAccess(request)), text(request.body, 'reason')));
    await audit(context, request, 'update', `mpi/patient/${request.params.id}/unmerge`, [request.params.id]);
    return { patient: request.params.id, resident };
  });
}
