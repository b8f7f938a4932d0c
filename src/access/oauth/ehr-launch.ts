/**
 * The EHR launch, from OpenICS's side: the shared care record's page (src/record/pages, GET
 * /record/patients/:id) offers "Launch app" for each registered SMART app that has a launch URL.
 * Launching records a launch context bound to this user and this patient, and sends the browser
 * to the app's launch URL with `iss` (the FHIR base) and `launch`, as SMART App Launch 2.0
 * describes.
 *
 *   POST /record/patients/:id/launch     { client_id } → 303 to <launch URL>?iss=…&launch=…
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { FhirAccessDenied } from '../../fhir/access.js';
import { FhirError } from '../../fhir/outcome.js';
import { FhirStore } from '../../fhir/store.js';
import { HTML } from '../../web/page-errors.js';
import { recordAccess } from '../audit/trail.js';
import { type AccessContext, ANONYMOUS } from '../context.js';
import { fhirAccessFor } from '../policy/fhir-policy.js';
import { findClient } from './clients.js';
import { createLaunch } from './launch.js';
import { fhirBaseOf, oauthRenderer } from './provider.js';
import { patientSummary, type PatientSummary } from './patients.js';

const STAFF_ONLY = { who: 'staff', purpose: 'see patients’ records' } as const;

type Outcome = { patient: PatientSummary } | { status: number; message: string };

export async function registerEhrLaunch(app: FastifyInstance, context: AppContext, issuerFor: (request: FastifyRequest) => string): Promise<void> {
  const accessOf = (request: FastifyRequest): AccessContext => (request as FastifyRequest & { access?: AccessContext }).access ?? ANONYMOUS;

  /** Reads the Patient as the signed-in user may (their relationship, consent, break-glass), and audits the look. */
  const readPatient = async (request: FastifyRequest, id: string, action: string): Promise<Outcome> => {
    const access = accessOf(request);
    if (access.kind !== 'user' || !access.role || access.role === 'citizen') return { status: 403, message: 'Only staff acting in a role can open a patient’s record here.' };
    const db = context.db;
    const at = new Date();
    try {
      await new FhirStore(db).withAccess(fhirAccessFor({ ...access, requestId: request.id }, db)).read('Patient', id);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      const refused = error instanceof FhirAccessDenied;
      const reason = error.issues.map((i) => i.diagnostics).filter(Boolean).join(' ') || 'This record cannot be shown.';
      await recordAccess(db, { context: { ...access, requestId: request.id }, action, outcome: refused ? 'refused' : 'failure', patients: [id], what: `Patient/${id}`, detail: reason, at });
      // The page speaks to a clinician; the API's wording (which endpoint to call) is for the audit record.
      const message = refused
        ? `Neither you nor ${access.organisation ?? 'your organisation'} has a care relationship with this person, so an app cannot be launched with their record.`
        : error.status === 404
          ? 'There is no such record.'
          : 'This record cannot be opened.';
      return { status: error.status, message };
    }
    const patient = await patientSummary(db, id);
    if (!patient) return { status: 404, message: 'There is no such patient.' };
    await recordAccess(db, { context: { ...access, requestId: request.id }, action, outcome: 'success', patients: [id], what: `Patient/${id}`, at });
    return { patient };
  };

  const problem = (reply: FastifyReply, outcome: { status: number; message: string }, id: string): FastifyReply =>
    reply
      .status(outcome.status)
      .type(HTML)
      .send(oauthRenderer('oauth-error.njk', { title: outcome.status === 404 ? 'Page not found' : 'You cannot see this record', description: outcome.message, breakGlass: outcome.status === 403 ? `/access/break-glass?patient=${encodeURIComponent(id)}` : undefined }));

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/record/patients/:id/launch', { schema: { hide: true }, config: { access: STAFF_ONLY } }, async (request, reply) => {
    const clientId = typeof request.body?.client_id === 'string' ? request.body.client_id : '';
    const client = clientId ? await findClient(context.db, clientId) : undefined;
    if (!client?.launchUri || client.kind === 'backend_service') return problem(reply, { status: 422, message: 'Choose one of the apps listed on the patient’s page.' }, request.params.id);
    const outcome = await readPatient(request, request.params.id, 'operation');
    if (!('patient' in outcome)) return problem(reply, outcome, request.params.id);
    const launch = await createLaunch(context.db, { clientId: client.clientId, userId: accessOf(request).subject, patient: outcome.patient.id });
    const target = new URL(client.launchUri);
    target.searchParams.set('iss', fhirBaseOf(issuerFor(request)));
    target.searchParams.set('launch', launch.id);
    return reply.header('cache-control', 'no-store').redirect(target.href, 303);
  });
}
