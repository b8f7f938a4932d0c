/**
 * Replaying a dead letter: its (perhaps corrected) body submitted again through the code the FHIR
 * API runs for that endpoint (processBundle, importNdjson, the store's update, create and
 * delete), acting as the client that sent it with the scopes its token had (re-read from the
 * client registration: a client since disabled cannot be replayed as), under the access policy,
 * with the platform's write hook and a feed session, so the data lands with its provenance and
 * the access is in the audit trail under the sending client.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { AccessContext } from '../../access/context.js';
import { findClient } from '../../access/oauth/clients.js';
import { parseScopes } from '../../access/oauth/scopes.js';
import { backendClientAccess } from '../../access/oauth/tokens.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import type { Database } from '../../core/db/database.js';
import { type FhirInteraction, FhirAccessDenied } from '../../fhir/access.js';
import { importNdjson, importOutcome } from '../../fhir/bulk.js';
import { checkBundle, processBundle } from '../../fhir/bundle.js';
import { isResourceType } from '../../fhir/definitions.js';
import { FhirError, type Issue, informational, operationOutcome } from '../../fhir/outcome.js';
import { FhirStore } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import type { DeadLetter } from './dead-letters.js';
import { FeedSession } from './session.js';

export interface ReplayResult {
  ok: boolean;
  status: number;
  outcome: Resource;
}

/** Submits the letter's body again as its sender; never throws for a FHIR failure (it is the result). */
export async function replayDeadLetter(db: Database, letter: DeadLetter, options: { baseUrl: string; requestId?: string }): Promise<ReplayResult> {
  const client = await findClient(db, letter.clientId);
  if (!client) return failed(409, 'forbidden', `The client ${letter.clientId} is no longer registered (or is disabled); its message cannot be replayed as it`);
  let scopes;
  try {
    scopes = parseScopes(letter.scopes);
  } catch {
    return failed(409, 'invalid', 'The scopes the message was sent with can no longer be read');
  }
  const context: AccessContext = { ...backendClientAccess(client, scopes), ...(options.requestId ? { requestId: options.requestId } : {}) };
  const policy = fhirAccessFor(context, db);
  const session = new FeedSession(db, { clientId: client.clientId, display: client.name, organisation: client.organisation }, { method: letter.method, endpoint: letter.endpoint, contentType: letter.contentType, scopes: letter.scopes }, letter.id);
  const touched = new Set<number>();
  const store = new FhirStore(db, {
    access: policy,
    touched,
    onWrite: async (q, written) => {
      await recordWriteHook(q, written);
      await session.written(q, written);
    },
  });
  const path = letter.endpoint.replace(/\?.*$/, '');
  const what = `${letter.method} ${path} (replay of dead letter ${letter.id})`;
  let interaction: FhirInteraction = 'create';
  try {
    const prepare = (resource: Resource): Resource => session.prepare(resource);
    let answer: ReplayResult;
    if (letter.method === 'POST' && /^\/fhir\/?$/.test(path)) {
      const bundle = checkBundle(parseBody(letter.body));
      interaction = bundle.type;
      policy.allowInteraction(interaction, undefined);
      if (bundle.type === 'transaction') session.hold();
      const result = await processBundle(store, { resourceType: 'Bundle', type: bundle.type, entry: bundle.entries }, { baseUrl: options.baseUrl, preferReturn: 'minimal', prepare, beforeCommit: (q) => session.release(q) });
      answer = bundleAnswer(result);
    } else if (letter.method === 'POST' && path === '/fhir/$import') {
      interaction = 'import';
      policy.allowInteraction(interaction, undefined);
      const result = await importNdjson(store, letter.body, { prepare });
      const outcome = importOutcome(result);
      answer = { ok: result.failed === 0, status: result.failed === 0 ? 200 : 422, outcome };
    } else {
      const match = /^\/fhir\/([A-Za-z]+)(?:\/([A-Za-z0-9\-.]{1,64}))?$/.exec(path);
      const type = match?.[1];
      const id = match?.[2];
      if (!type || !isResourceType(type)) throw FhirError.of(400, 'not-supported', `${letter.method} ${path} cannot be replayed: it is not a FHIR write this server replays`);
      if (letter.method === 'PUT' && id) {
        interaction = 'update';
        policy.allowInteraction(interaction, type);
        const result = await store.update(type, id, prepare(parseBody(letter.body) as Resource));
        answer = { ok: true, status: result.created ? 201 : 200, outcome: informational(result.changed ? `Wrote ${type}/${id}` : `${type}/${id} was already up to date`) };
      } else if (letter.method === 'POST' && !id) {
        interaction = 'create';
        policy.allowInteraction(interaction, type);
        const created = await store.create(prepare(parseBody(letter.body) as Resource));
        answer = { ok: true, status: 201, outcome: informational(`Created ${type}/${created.id}`) };
      } else if (letter.method === 'DELETE' && id) {
        interaction = 'delete';
        policy.allowInteraction(interaction, type);
        const existed = await store.delete(type, id);
        if (!existed) throw FhirError.of(404, 'not-found', `${type}/${id} is not known`);
        answer = { ok: true, status: 200, outcome: informational(`Deleted ${type}/${id}`) };
      } else {
        throw FhirError.of(400, 'not-supported', `${letter.method} ${path} cannot be replayed here; ask the sender to send it again`);
      }
    }
    await policy.record({ interaction, outcome: answer.ok ? 'success' : 'failure', what, patientKeys: [...touched] });
    return answer;
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    await policy.record({ interaction, outcome: error instanceof FhirAccessDenied ? 'refused' : 'failure', what, patientKeys: error instanceof FhirAccessDenied ? error.patientKeys : [...touched], detail: error.issues.map((i) => i.diagnostics).join('; ') });
    return { ok: false, status: error.status, outcome: operationOutcome(error.issues) };
  }
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw FhirError.of(400, 'structure', `The body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A transaction succeeded whole; a batch succeeded only if every entry did. */
function bundleAnswer(result: Bundle): ReplayResult {
  const failedEntries = (result.entry ?? []).flatMap((e, i) => (/^[45]/.test(e.response?.status ?? '') ? [{ i, e }] : []));
  if (failedEntries.length === 0) return { ok: true, status: 200, outcome: informational(`All ${result.entry?.length ?? 0} entries succeeded`) };
  const issues = failedEntries.flatMap(({ i, e }) => (e.response?.outcome)?.issue?.map((issue) => ({ ...issue, diagnostics: `Bundle.entry[${i}]: ${issue.diagnostics ?? ''}` })) ?? []);
  return { ok: false, status: 422, outcome: { resourceType: 'OperationOutcome', issue: issues } satisfies OperationOutcome };
}

function failed(status: number, code: Issue['code'], diagnostics: string): ReplayResult {
  return { ok: false, status, outcome: operationOutcome([{ severity: 'error', code, diagnostics }]) };
}
