/**
 * A partner feed's message as OpenICS records it: the FHIR API's feed hook (src/fhir/http.ts,
 * FhirFeedHook) opens a session for each write request of a backend client, and the session
 *
 *  - sets `meta.source` of each resource to the sending system (`urn:openics:source:<ODS>:<client>`)
 *    when it came without one, keeps one the organisation gave its own system
 *    (`urn:openics:source:<its ODS>:…`), leaves one claiming another organisation for the access
 *    policy's checkWrite to refuse (403), and overrides any other value: OpenICS vouches only for
 *    what the token proves;
 *  - writes one FHIR Provenance per database transaction of the message (a transaction Bundle,
 *    an $import batch, a REST write, a batch entry) in that transaction, targeting the versions
 *    written; a retry that changes nothing writes nothing;
 *  - keeps a refused message in the dead-letter queue (dead-letters.ts).
 *
 * Interactive users and OpenICS itself get no session: their writes are audited, not fed.
 */
import { randomUUID } from 'node:crypto';
import type { Provenance, Reference, Resource } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import type { AccessContext } from '../../access/context.js';
import type { Database, Queryable } from '../../core/db/database.js';
import type { FhirFeedHook, FhirFeedSession } from '../../fhir/http.js';
import { type FhirResource, FhirStore, type WrittenVersion, stamp } from '../../fhir/store.js';
import { ODS_SYSTEM, holderOfSource, sourceUri } from '../../synthetic/model.js';
import { keepDeadLetter } from './dead-letters.js';

export const DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
export const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** Identifies the OAuth client a message came through (Provenance agent, as a Device). */
export const CLIENT_SYSTEM = 'https://fhir.openics.example/Id/oauth-client';
/** Identifies a feed message (Provenance entity): one id per request or replay. */
export const MESSAGE_SYSTEM = 'https://fhir.openics.example/Id/feed-message';

/** Who sent a message: a backend client, and the organisation it sends for. */
export interface FeedSender {
  clientId: string;
  display: string;
  organisation: string | undefined;
}

/** The request a message came in, as the dead-letter queue keeps it. */
export interface FeedRequest {
  method: string;
  endpoint: string;
  contentType: string;
  scopes: string;
}

export function senderOf(access: AccessContext): FeedSender | undefined {
  if (access.kind !== 'client') return undefined;
  return { clientId: access.clientId ?? access.subject, display: access.display, organisation: access.organisation };
}

/** The sending system's `meta.source`: the organisation's feed through this client. */
export function sendingSystem(sender: FeedSender): string | undefined {
  return sender.organisation ? sourceUri(sender.organisation, sender.clientId) : undefined;
}

export class FeedSession implements FhirFeedSession {
  /** The message's id, in every Provenance it writes. */
  readonly messageId = randomUUID();
  private held: WrittenVersion[] | undefined;
  /** Set when the message was put in the dead-letter queue. */
  deadLetterId: string | undefined;

  constructor(
    private readonly db: Database,
    readonly sender: FeedSender,
    readonly request: FeedRequest,
    /** For a replay: the dead letter it replays, named in the Provenance. */
    private readonly replayOf?: string,
  ) {}

  prepare(resource: Resource): Resource {
    const system = sendingSystem(this.sender);
    if (!system || typeof resource !== 'object' || resource === null) return resource;
    const source = resource.meta?.source;
    if (source === system) return resource;
    // Its own organisation's name for the system is kept; another organisation's is for checkWrite to refuse.
    if (holderOfSource(source) !== undefined) return resource;
    return { ...resource, meta: { ...(resource.meta ?? {}), source: system } };
  }

  async written(q: Queryable, versions: readonly WrittenVersion[]): Promise<void> {
    if (this.held) {
      this.held.push(...versions);
      return;
    }
    await this.writeProvenance(q, versions);
  }

  hold(): void {
    this.held = [];
  }

  async release(q: Queryable): Promise<void> {
    const held = this.held ?? [];
    this.held = undefined;
    await this.writeProvenance(q, held);
  }

  async rejected(status: number, outcome: Resource, body?: string): Promise<void> {
    this.held = undefined;
    this.deadLetterId = await keepDeadLetter(this.db, {
      sender: this.sender,
      request: this.request,
      body: body ?? '',
      status,
      outcome,
    });
  }

  /** One Provenance for what one transaction wrote: a CREATE/UPDATE one, and a DELETE one for withdrawals. */
  private async writeProvenance(q: Queryable, versions: readonly WrittenVersion[]): Promise<void> {
    const mine = versions;
    if (mine.length === 0) return;
    const withdrawn = mine.filter((v) => v.deleted);
    const changed = mine.filter((v) => !v.deleted);
    const store = new FhirStore(this.db);
    const now = new Date();
    const provenances: FhirResource[] = [];
    if (changed.length > 0) provenances.push(stamp(this.provenance(changed, changed.every((v) => v.resource.meta.versionId === '1') ? 'CREATE' : 'UPDATE', now), randomUUID(), 1, now));
    if (withdrawn.length > 0) provenances.push(stamp(this.provenance(withdrawn, 'DELETE', now), randomUUID(), 1, now));
    const keys = await store.newKeys(provenances.length, q);
    await store.writeVersions(
      provenances.map((p, i) => store.pending(p, keys[i] as number, 'POST', false)),
      q,
    );
  }

  private provenance(versions: readonly WrittenVersion[], activity: 'CREATE' | 'UPDATE' | 'DELETE', now: Date): Provenance {
    const organisation: Reference | undefined = this.sender.organisation ? { identifier: { system: ODS_SYSTEM, value: this.sender.organisation } } : undefined;
    const system = sendingSystem(this.sender);
    return {
      resourceType: 'Provenance',
      ...(system ? { meta: { source: system } } : {}),
      target: versions.map((v) => ({ reference: `${v.resource.resourceType}/${v.resource.id}/_history/${v.resource.meta.versionId}` })),
      recorded: now.toISOString(),
      activity: { coding: [{ system: DATA_OPERATION, code: activity }] },
      agent: [
        ...(organisation ? [{ type: { coding: [{ system: PARTICIPANT_TYPE, code: 'author' }] }, who: { type: 'Organization', ...organisation } }] : []),
        {
          type: { coding: [{ system: PARTICIPANT_TYPE, code: 'assembler' }] },
          who: { type: 'Device', identifier: { system: CLIENT_SYSTEM, value: this.sender.clientId }, display: this.sender.display },
          ...(organisation ? { onBehalfOf: { type: 'Organization', ...organisation } } : {}),
        },
      ],
      entity: [
        {
          role: 'source',
          what: { identifier: { system: MESSAGE_SYSTEM, value: this.messageId }, display: `${this.request.method} ${this.request.endpoint}${this.replayOf ? ` (replay of dead letter ${this.replayOf})` : ''}` },
        },
      ],
    } as Provenance;
  }
}

function scopeText(access: AccessContext): string {
  return access.scopes.map((s) => `${s.context}/${s.type}.${s.actions}`).join(' ');
}

/** The FHIR API's feed hook: a session for each write request of a backend client. */
export function partnerFeedHook(db: () => Database): FhirFeedHook {
  return (request: FastifyRequest) => {
    const access = (request as FastifyRequest & { access?: AccessContext }).access;
    const sender = access ? senderOf(access) : undefined;
    if (!access || !sender) return undefined;
    const path = request.url.replace(/[?#].*$/, '');
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return new FeedSession(db(), sender, {
      method: request.method,
      endpoint: `${decodeURIComponent(path)}${query}`,
      contentType: String(request.headers['content-type'] ?? 'application/fhir+json').split(';')[0] as string,
      scopes: scopeText(access),
    });
  };
}
