/**
 * GET /fhir/Patient/:id/$summary: the International Patient Summary of a resident (ips.ts), from
 * every linked source's records the caller may see. The records are read through the caller's
 * access policy (a Patient it may not see is refused as the policy answers) and the access is
 * audited with every Patient whose records went into it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EverythingLinkage, patientRecord } from '../../fhir/everything.js';
import { type FhirRouteRegistrar, baseUrl, sendResource } from '../../fhir/http.js';
import { invalid } from '../../fhir/outcome.js';
import { SUMMARY_TYPES, buildPatientSummary } from './ips.js';

/** The parameters $summary takes: none of its own (IPS's `identifier` and `profile` are not supported). */
const KNOWN = new Set(['_format', '_pretty']);

export function summaryRoutes(options: { linkage?: EverythingLinkage | undefined } = {}): FhirRouteRegistrar {
  return ({ app, context, begin }) => {
    app.get<{ Params: { id: string } }>('/Patient/:id/$summary', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const { id } = request.params;
      const access = await begin(request, 'everything', 'Patient', `Patient/${id}/$summary`);
      for (const name of Object.keys((request.query ?? {}))) {
        if (!KNOWN.has(name)) throw invalid(`$summary does not take a parameter "${name}"`, name);
      }
      const base = baseUrl(request);
      const record = await patientRecord(context.db, id, { types: SUMMARY_TYPES }, base, { access: access.policy, touched: access.touched, linkage: options.linkage });
      const bundle = buildPatientSummary({ patientId: id, entries: record.entries, base });
      await access.done({ patientIds: [id] });
      return sendResource(request, reply, 200, bundle);
    });
  };
}
