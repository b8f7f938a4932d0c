/**
 * Opening a document from the record:
 *
 *   GET /record/documents/:id       the caller's access policy must let them read DocumentReference/:id
 *                                   (read through the FHIR store acting for them); the access is
 *                                   recorded (refusals too); then the document: a 303 to the
 *                                   holder's repository (a signed address for the demo's
 *                                   stand-in, the attachment's URL otherwise)
 *   GET /demo-repository/:holder/discharge-summaries/:encounter?expires=&signature=
 *                                   the stand-in repository (repository.ts): only a genuine,
 *                                   unexpired signed address opens a document
 */
import { requestAccess } from '../../access/audit/guard.js';
import { fileURLToPath } from 'node:url';
import type { DocumentReference } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import type { AppContext } from '../../app.js';
import { FhirAccessDenied } from '../../fhir/access.js';
import { FhirError } from '../../fhir/outcome.js';
import { FhirStore } from '../../fhir/store.js';
import { HTML, pageErrorHandler } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import { dischargeSummary, isSignedAddress, signedAddress } from './repository.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const OPEN_RULE = { who: 'signed-in', purpose: 'open documents in patients’ records' } as const;
/** The signature is the repository's authority, as a pre-signed address is for any document store. */
const REPOSITORY_RULE = { who: 'anyone' } as const;
const REPOSITORY_PREFIX = '/demo-repository/';

export async function registerDocumentRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const render = createRenderer([VIEWS]);
  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'document-problem.njk', error: 'document-problem.njk' }));
    const problem = (reply: FastifyReply, status: number, message: string, breakGlass?: string): FastifyReply =>
      reply
        .status(status)
        .type(HTML)
        .header('cache-control', 'no-store')
        .send(render('document-problem.njk', { title: status === 404 ? 'Page not found' : 'You cannot open this document', status, message, breakGlass }));

    scope.get<{ Params: { id: string } }>('/record/documents/:id', { schema: { hide: true }, config: { access: OPEN_RULE } }, async (request, reply) => {
      const access = requestAccess(request);
      const db = context.db;
      const policy = fhirAccessFor(access, db);
      const what = `DocumentReference/${request.params.id}`;
      const touched = new Set<number>();
      let document: DocumentReference;
      try {
        policy.allowInteraction('read', 'DocumentReference');
        document = (await new FhirStore(db).withAccess(policy, touched).read('DocumentReference', request.params.id)) as DocumentReference;
      } catch (error) {
        if (!(error instanceof FhirError)) throw error;
        const refused = error instanceof FhirAccessDenied;
        const message = error.issues.map((i) => i.diagnostics).filter(Boolean).join(' ') || 'This document cannot be opened.';
        await policy.record({ interaction: 'read', outcome: refused ? 'refused' : 'failure', what, patientKeys: refused ? error.patientKeys : [], detail: message });
        // The refusal names the Patient only where the caller may break glass for them.
        const patient = refused && error.status === 403 ? error.patientIds[0] : undefined;
        // The page speaks to a clinician; the API's wording (which endpoint to call) is for the audit record.
        const shown =
          error.status === 404 || error.status === 410
            ? 'There is no such document.'
            : patient
              ? `Neither you nor ${access.organisation ?? 'your organisation'} has a care relationship with the person this document is about, so it cannot be opened.`
              : refused
                ? 'You cannot open this document.'
                : 'This document cannot be opened.';
        return problem(reply, error.status, shown, patient ? `/access/break-glass?patient=${encodeURIComponent(patient)}` : undefined);
      }
      await policy.record({ interaction: 'read', outcome: 'success', what, patientKeys: [...touched], detail: 'document opened' });
      const url = document.content.find((c) => c.attachment.url)?.attachment.url;
      if (url?.startsWith(REPOSITORY_PREFIX)) return reply.header('cache-control', 'no-store').redirect(signedAddress(url), 303);
      if (url && /^https:\/\//.test(url)) return reply.header('cache-control', 'no-store').redirect(url, 303);
      return problem(reply, 404, 'This document’s holder has not said where it can be opened.');
    });

    scope.get<{ Params: { holder: string; encounter: string }; Querystring: Record<string, unknown> }>(
      '/demo-repository/:holder/discharge-summaries/:encounter',
      { schema: { hide: true }, config: { access: REPOSITORY_RULE } },
      async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if (!isSignedAddress(path, request.query.expires, request.query.signature)) {
          return problem(reply, 403, 'This address has expired or is not genuine. Open the document again from the patient’s record.');
        }
        const summary = await dischargeSummary(context.db, request.params.holder, request.params.encounter);
        if (!summary) return problem(reply, 404, 'There is no such document.');
        return reply.type(HTML).header('cache-control', 'no-store').send(render('discharge-summary.njk', { title: 'Discharge summary', summary }));
      },
    );
  });
}
