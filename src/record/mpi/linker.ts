/**
 * The master patient index's part of the FHIR store's write hook: every Patient written is a
 * source patient, registered and linked to a resident in the same transaction as the write.
 *
 * For each Patient created (or changed while it stands alone in its resident, or sent again after
 * being withdrawn): its demographics and blocking keys are stored; the source patients sharing a
 * blocking key are scored with the linkage engine (src/record/linkage) using the name counts kept
 * in the database; and `decideLink` says link (it joins that resident, and the access policy's
 * person with it), review (a row in the review queue; it stays a resident of its own) or new.
 * A whole batch (a transaction Bundle, an NDJSON import's chunk) is done with a handful of
 * queries: candidates, name counts and rejected pairs are read once, decisions are made in
 * memory (so a later copy of a resident in the same batch finds an earlier one), and the rows are
 * written together.
 *
 * A Patient whose demographics changed while it is linked with others is re-scored against them
 * (`rescore`): still a match, it stays; otherwise it leaves them and is linked afresh, as above,
 * unless a person made one of its resident's links, when it stays and a review is queued.
 *
 * Before reading anything it decides on, the linker takes the advisory locks of the blocking keys
 * involved (locks.ts), so two transactions linking copies of one person take turns, and the
 * second sees the first's record.
 *
 * A withdrawn (deleted) Patient leaves its resident: it keeps its row (withdrawn_at) and its
 * history, loses its blocking keys and leaves the resident's access person.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import { linkPatientKeys, separatePatientKeys } from '../../access/policy/persons.js';
import type { Queryable } from '../../core/db/database.js';
import type { FhirWriteHook, WrittenVersion } from '../../fhir/store.js';
import { type Demographics, type PairScore, blockingKeys, decideLink, demographicsOf, scorePair } from '../linkage/index.js';
import { lockBlocks, residentBlocks } from './locks.js';
import { NameCounts } from './names.js';
import { type LinkBasis, sourceOf } from './residents.js';

export const LINKER_AGENT = 'system:linker';

export const mpiWriteHook: FhirWriteHook = async (q, written) => {
  const link = await prepareMpiWrite(q, written);
  await link();
};

/**
 * The first half of the hook: finds the Patients to (re)link or withdraw and takes their blocking
 * keys' locks (locks.ts). The FHIR store's hook (src/record/write-hook.ts) calls it before the
 * access policy's hook, so this transaction waits for the keys before it holds any access row
 * that a merge holding them may need. Returns the second half, which links.
 */
export async function prepareMpiWrite(q: Queryable, written: readonly WrittenVersion[]): Promise<() => Promise<void>> {
  const latest = new Map<string, WrittenVersion>();
  for (const w of written) if (w.resource.resourceType === 'Patient') latest.set(w.resource.id, w);
  if (latest.size === 0) return async () => {};
  const prepared = await lockSourcePatients(q, [...latest.values()]);
  return prepared ? () => linkSourcePatients(q, prepared) : async () => {};
}

interface ExistingRow {
  patient_id: string;
  patient_key: number | string;
  resident_id: string;
  fingerprint: string;
  demographics: Demographics | string;
  link_basis: LinkBasis;
  withdrawn_at: Date | string | null;
}

/** A source patient that may be a candidate: its resident and demographics. */
interface Candidate {
  patientId: string;
  patientKey: number;
  residentId: string;
  d: Demographics;
}

/** A Patient to be (re)linked in this batch. */
interface ToLink {
  patientId: string;
  patientKey: number;
  patient: Patient;
  d: Demographics;
  keys: string[];
  fingerprint: string;
  /** Its resident before (for a changed or restored one). */
  before?: {
    residentId: string;
    alone: boolean;
    withdrawn: boolean;
    othersRemain: boolean;
    basis: LinkBasis;
    /** Re-scored against the records it was linked with, and no longer a match: it left them. */
    split?: boolean;
  };
  /** For one that stays in its resident: the re-score's basis and weight (undefined: the link is left as it was). */
  relink?: { basis: LinkBasis; weight: number | null };
}

interface SourceRow {
  patientId: string;
  patientKey: number;
  residentId: string;
  holder: string | null;
  system: string | null;
  d: Demographics;
  fingerprint: string;
  basis: LinkBasis;
  weight: number | null;
  /** For a kept link: false leaves link_basis and link_weight as they are. */
  setBasis?: boolean;
}

interface Review {
  patientId: string;
  candidateId: string;
  score: PairScore;
}

export function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

function fingerprintOf(d: Demographics, patient: Patient): string {
  return createHash('sha1')
    .update(JSON.stringify([d, patient.meta?.source ?? null]))
    .digest('hex');
}

async function readExisting(q: Queryable, ids: readonly string[]): Promise<Map<string, ExistingRow>> {
  const { rows } = await q.query<ExistingRow>(
    'SELECT patient_id, patient_key, resident_id, fingerprint, demographics, link_basis, withdrawn_at FROM mpi_source_patient WHERE patient_id = ANY($1::text[])',
    [[...ids]],
  );
  return new Map(rows.map((r) => [r.patient_id, r]));
}

interface Prepared {
  work: Array<{ version: WrittenVersion; item?: ToLink }>;
  existing: Map<string, ExistingRow>;
}

/** What needs doing, with its blocking keys locked; undefined when nothing does. */
async function lockSourcePatients(q: Queryable, versions: readonly WrittenVersion[]): Promise<Prepared | undefined> {
  let existing = await readExisting(
    q,
    versions.map((v) => v.resource.id),
  );

  // What needs doing: withdrawals, and Patients new, restored or with changed demographics.
  const work: Array<{ version: WrittenVersion; item?: ToLink }> = [];
  for (const version of versions) {
    const before = existing.get(version.resource.id);
    if (version.deleted) {
      if (before && before.withdrawn_at === null) work.push({ version });
      continue;
    }
    const patient = version.resource as Patient;
    const d = demographicsOf(patient);
    const fingerprint = fingerprintOf(d, patient);
    if (before && before.withdrawn_at === null && before.fingerprint === fingerprint) continue;
    work.push({ version, item: { patientId: version.resource.id, patientKey: version.patientKey, patient, d, keys: blockingKeys(d), fingerprint } });
  }
  if (work.length === 0) return undefined;

  // One change at a time per blocking key (locks.ts): the keys each Patient will have, and, for
  // one registered already, the keys of every record of its resident (which it may leave, or be
  // re-scored against). Then read their rows again: a merge or unmerge that committed while this
  // waited may have moved them.
  const residents = new Set<string>();
  for (const { version } of work) {
    const before = existing.get(version.resource.id);
    if (before) residents.add(before.resident_id);
  }
  await lockBlocks(q, [...work.flatMap(({ item }) => item?.keys ?? []), ...(await residentBlocks(q, [...residents]))]);
  if (residents.size > 0) {
    existing = await readExisting(
      q,
      work.map(({ version }) => version.resource.id),
    );
  }

  return { work, existing };
}

async function linkSourcePatients(q: Queryable, { work, existing }: Prepared): Promise<void> {
  const now = new Date();
  const events = new EventBatch(now);
  const names = new NameCounts();
  const withdrawn: ExistingRow[] = [];
  const toLink: ToLink[] = [];
  const residentsToCount = new Set<string>();
  for (const { version, item } of work) {
    const before = existing.get(version.resource.id);
    if (!item) {
      if (before && before.withdrawn_at === null) withdrawn.push(before);
      continue;
    }
    if (before) {
      item.before = { residentId: before.resident_id, alone: false, withdrawn: before.withdrawn_at !== null, othersRemain: false, basis: before.link_basis };
      residentsToCount.add(before.resident_id);
      if (before.withdrawn_at === null) names.change(parseJson(before.demographics), -1);
    }
    toLink.push(item);
  }

  // Withdrawals first, so nothing in the batch is compared with a withdrawn record.
  if (withdrawn.length > 0) {
    const ids = withdrawn.map((w) => w.patient_id);
    await q.query('UPDATE mpi_source_patient SET withdrawn_at = $2 WHERE patient_id = ANY($1::text[])', [ids, now]);
    await q.query('DELETE FROM mpi_blocking_key WHERE patient_key = ANY($1::int8[])', [withdrawn.map((w) => Number(w.patient_key))]);
    await q.query(`UPDATE mpi_review SET status = 'closed', decided_at = $2, decided_by = $3, reason = 'record withdrawn' WHERE status = 'open' AND (patient_id = ANY($1::text[]) OR candidate_patient_id = ANY($1::text[]))`, [ids, now, LINKER_AGENT]);
    for (const w of withdrawn) {
      names.change(parseJson(w.demographics), -1);
      events.add({ action: 'withdrawn', patientId: w.patient_id, residentId: w.resident_id, reason: 'the source withdrew the record' });
      await separatePatientKeys(q, [Number(w.patient_key)]);
    }
  }

  if (toLink.length > 0) {
    // Whether each changed patient stands alone in its resident (then it is simply linked again).
    if (residentsToCount.size > 0) {
      const counts = await q.query<{ resident_id: string; n: number | string }>(
        'SELECT resident_id, count(*) AS n FROM mpi_source_patient WHERE resident_id = ANY($1::text[]) AND withdrawn_at IS NULL GROUP BY resident_id',
        [[...residentsToCount]],
      );
      const count = new Map(counts.rows.map((r) => [r.resident_id, Number(r.n)]));
      for (const item of toLink) {
        if (!item.before) continue;
        // The count is of current (not withdrawn) rows, this patient's own among them unless it was withdrawn.
        const others = (count.get(item.before.residentId) ?? 0) - (item.before.withdrawn ? 0 : 1);
        item.before.othersRemain = others > 0;
        item.before.alone = item.before.withdrawn || !item.before.othersRemain;
      }
    }
    // One linked with others is re-scored against them: it stays, or leaves them and is linked afresh.
    const { kept, split, reviews } = await rescore(
      q,
      toLink.filter((t) => t.before && !t.before.alone),
      toLink,
      names,
      events,
    );
    for (const item of split) await separatePatientKeys(q, [item.patientKey]);
    const relinked = toLink.filter((t) => !t.before || t.before.alone || t.before.split);
    await q.query('DELETE FROM mpi_blocking_key WHERE patient_key = ANY($1::int8[])', [toLink.filter((t) => t.before).map((t) => t.patientKey)]);
    await linkBatch(q, relinked, kept, reviews, names, events, now);
  }
  await names.save(q);
  await events.save(q);
}

/**
 * Re-scores changed source patients linked with others against the other current source patients
 * of their resident, as the linker would score a new record against them. Still a match: it stays
 * (`kept`, with the re-score's basis and weight). No longer a match: it leaves them (`split`, to
 * be linked afresh), unless a person made any of its resident's links (a merge or an accepted
 * review): that is not undone automatically; it stays, and a review is queued against the
 * record it is closest to.
 */
async function rescore(
  q: Queryable,
  changed: readonly ToLink[],
  batch: readonly ToLink[],
  names: NameCounts,
  events: EventBatch,
): Promise<{ kept: ToLink[]; split: ToLink[]; reviews: Review[] }> {
  const kept: ToLink[] = [];
  const split: ToLink[] = [];
  const reviews: Review[] = [];
  if (changed.length === 0) return { kept, split, reviews };
  const { rows } = await q.query<{ patient_id: string; resident_id: string; demographics: Demographics | string; link_basis: LinkBasis }>(
    'SELECT patient_id, resident_id, demographics, link_basis FROM mpi_source_patient WHERE resident_id = ANY($1::text[]) AND withdrawn_at IS NULL ORDER BY linked_at, patient_id',
    [[...new Set(changed.map((t) => t.before?.residentId ?? ''))]],
  );
  // A member changed in this batch is compared as it is now.
  const now = new Map(batch.map((t) => [t.patientId, t.d]));
  const members = rows.map((r) => ({ patientId: r.patient_id, residentId: r.resident_id, basis: r.link_basis, d: now.get(r.patient_id) ?? parseJson(r.demographics) }));
  await names.load(q, [...changed.map((t) => t.d), ...members.map((m) => m.d)]);
  const nonMatches = await rejectedPairs(
    q,
    changed.map((t) => t.patientId),
  );
  for (const item of changed) {
    const before = item.before;
    if (!before) continue;
    const others = members.filter((m) => m.residentId === before.residentId && m.patientId !== item.patientId);
    const scored: Array<{ resident: string; score: PairScore; patientId: string }> = [];
    for (const other of others) {
      if (nonMatches.has(pairKey(item.patientId, other.patientId))) continue;
      scored.push({ resident: before.residentId, score: scorePair(item.d, other.d, names), patientId: other.patientId });
    }
    const decision = decideLink(scored);
    const byPerson = before.basis === 'manual' || others.some((o) => o.basis === 'manual');
    if (decision.action === 'link') {
      // A link a person made stays theirs; otherwise the row says how it is linked now.
      if (!byPerson) item.relink = { basis: decision.score.basis, weight: decision.score.weight };
      kept.push(item);
      events.add({
        action: 'relinked',
        patientId: item.patientId,
        residentId: before.residentId,
        basis: decision.score.basis,
        weight: decision.score.weight,
        reason: 'demographics changed; re-scored against the records it is linked with: still a match',
      });
    } else if (byPerson) {
      kept.push(item);
      events.add({
        action: 'relinked',
        patientId: item.patientId,
        residentId: before.residentId,
        reason: 'demographics changed; no longer matches the records it was linked with by a person: kept with them until a person reviews it',
      });
      const closest = [...scored].sort((a, b) => b.score.weight - a.score.weight)[0];
      if (closest) {
        reviews.push({ patientId: item.patientId, candidateId: closest.patientId, score: closest.score });
        events.add({
          action: 'queued',
          patientId: item.patientId,
          residentId: before.residentId,
          basis: closest.score.basis,
          weight: closest.score.weight,
          reason: `demographics changed: check the link with source patient ${closest.patientId}`,
        });
      }
    } else {
      before.split = true;
      split.push(item);
    }
  }
  return { kept, split, reviews };
}

async function linkBatch(q: Queryable, toLink: readonly ToLink[], refreshed: readonly ToLink[], queued: readonly Review[], names: NameCounts, events: EventBatch, now: Date): Promise<void> {
  // Candidates: every current source patient sharing a blocking key with any of the batch.
  const blocks = [...new Set(toLink.flatMap((t) => t.keys))];
  const index = new Map<string, Candidate[]>();
  if (blocks.length > 0) {
    const { rows } = await q.query<{ block: string; patient_id: string; patient_key: number | string; resident_id: string; demographics: Demographics | string }>(
      `SELECT b.block, s.patient_id, s.patient_key, s.resident_id, s.demographics
       FROM mpi_blocking_key b JOIN mpi_source_patient s ON s.patient_key = b.patient_key
       WHERE b.block = ANY($1::text[]) AND s.withdrawn_at IS NULL`,
      [blocks],
    );
    const parsed = new Map<string, Candidate>();
    for (const row of rows) {
      let candidate = parsed.get(row.patient_id);
      if (!candidate) {
        candidate = { patientId: row.patient_id, patientKey: Number(row.patient_key), residentId: row.resident_id, d: parseJson(row.demographics) };
        parsed.set(row.patient_id, candidate);
      }
      const list = index.get(row.block) ?? [];
      list.push(candidate);
      index.set(row.block, list);
    }
    await names.load(q, [...toLink.map((t) => t.d), ...[...parsed.values()].map((c) => c.d)]);
  }
  const nonMatches = await rejectedPairs(q, toLink.map((t) => t.patientId));

  const sources: SourceRow[] = [];
  const newResidents: string[] = [];
  const reviews: Review[] = [];
  /** Per resident a link joined: keys to make one access person (one of its earlier keys included). */
  const joins = new Map<string, Set<number>>();
  for (const item of toLink) {
    const seen = new Set<string>([item.patientId]);
    const scored: Array<{ resident: string; score: PairScore }> = [];
    const patientOfScore = new Map<PairScore, Candidate>();
    for (const key of item.keys) {
      for (const candidate of index.get(key) ?? []) {
        if (seen.has(candidate.patientId)) continue;
        seen.add(candidate.patientId);
        if (nonMatches.has(pairKey(item.patientId, candidate.patientId))) continue;
        const score = scorePair(item.d, candidate.d, names);
        scored.push({ resident: candidate.residentId, score });
        patientOfScore.set(score, candidate);
      }
    }
    const decision = decideLink(scored);
    const { holder, system } = sourceOf(item.patient);
    let residentId: string;
    let basis: LinkBasis = 'first';
    let weight: number | null = null;
    if (decision.action === 'link') {
      residentId = decision.resident;
      basis = decision.score.basis;
      weight = decision.score.weight;
      const anchor = patientOfScore.get(decision.score);
      const keys = joins.get(residentId) ?? new Set<number>();
      keys.add(item.patientKey);
      if (anchor) keys.add(anchor.patientKey);
      joins.set(residentId, keys);
    } else if (item.before?.alone && !item.before.othersRemain) {
      residentId = item.before.residentId;
    } else {
      residentId = randomUUID();
      newResidents.push(residentId);
    }
    if (decision.action === 'review') {
      for (const c of decision.candidates) {
        const candidate = patientOfScore.get(c.score);
        if (candidate) reviews.push({ patientId: item.patientId, candidateId: candidate.patientId, score: c.score });
      }
    }
    sources.push({ patientId: item.patientId, patientKey: item.patientKey, residentId, holder, system, d: item.d, fingerprint: item.fingerprint, basis, weight });
    const from = item.before && item.before.residentId !== residentId ? item.before.residentId : null;
    if (!item.before) events.add({ action: decision.action === 'link' ? 'linked' : 'registered', patientId: item.patientId, residentId, basis, weight });
    else {
      const reason = item.before.split ? 'demographics changed; re-scored against the records it was linked with: no longer a match, so linked afresh' : 'demographics changed';
      events.add({ action: item.before.withdrawn ? 'restored' : 'relinked', patientId: item.patientId, residentId, fromResident: from, basis, weight, reason });
    }
    if (decision.action === 'review') {
      for (const r of reviews.filter((x) => x.patientId === item.patientId)) {
        events.add({ action: 'queued', patientId: item.patientId, residentId, basis: r.score.basis, weight: r.score.weight, reason: `possible match with source patient ${r.candidateId}` });
      }
    }
    // Later copies of the same resident in this batch find this one.
    const self: Candidate = { patientId: item.patientId, patientKey: item.patientKey, residentId, d: item.d };
    for (const key of item.keys) {
      const list = index.get(key) ?? [];
      list.push(self);
      index.set(key, list);
    }
    names.change(item.d, 1);
  }

  for (const item of refreshed) {
    const { holder, system } = sourceOf(item.patient);
    const residentId = item.before?.residentId ?? '';
    sources.push({
      patientId: item.patientId,
      patientKey: item.patientKey,
      residentId,
      holder,
      system,
      d: item.d,
      fingerprint: item.fingerprint,
      basis: item.relink?.basis ?? 'first',
      weight: item.relink?.weight ?? null,
      setBasis: item.relink !== undefined,
    });
    names.change(item.d, 1);
  }

  if (newResidents.length > 0) {
    await q.query('INSERT INTO mpi_resident (id, created_at) SELECT id, $2 FROM unnest($1::text[]) AS id', [newResidents, now]);
  }
  await writeSources(q, sources, new Set(refreshed.map((r) => r.patientId)), now);
  const all = [...toLink, ...refreshed];
  const blockRows = all.flatMap((t) => t.keys.map((k) => [k, t.patientKey] as const));
  if (blockRows.length > 0) {
    await q.query('INSERT INTO mpi_blocking_key (block, patient_key) SELECT * FROM unnest($1::text[], $2::int8[]) ON CONFLICT DO NOTHING', [blockRows.map((r) => r[0]), blockRows.map((r) => r[1])]);
  }
  reviews.push(...queued);
  if (reviews.length > 0) {
    await q.query(
      `INSERT INTO mpi_review (patient_id, candidate_patient_id, weight, score, queued_at)
       SELECT p, c, w, s::jsonb, $5 FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[]) AS r(p, c, w, s)
       ON CONFLICT (patient_id, candidate_patient_id) WHERE status = 'open' DO NOTHING`,
      [reviews.map((r) => r.patientId), reviews.map((r) => r.candidateId), reviews.map((r) => r.score.weight), reviews.map((r) => JSON.stringify(r.score)), now],
    );
  }
  // Every Patient written already has its access person (the access hook runs first).
  for (const keys of joins.values()) await linkPatientKeys(q, [...keys]);
}

async function writeSources(q: Queryable, sources: readonly SourceRow[], keepLink: ReadonlySet<string>, now: Date): Promise<void> {
  if (sources.length === 0) return;
  const moved = sources.filter((s) => !keepLink.has(s.patientId));
  const kept = sources.filter((s) => keepLink.has(s.patientId));
  if (moved.length > 0) {
    await q.query(
      `INSERT INTO mpi_source_patient (patient_id, patient_key, resident_id, holder, system, nhs_number, nhs_verified, demographics, fingerprint, link_basis, link_weight, linked_at)
       SELECT p, k, r, h, s, n, v, d::jsonb, f, b, w, $12 FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::text[], $10::text[], $11::float8[])
         AS u(p, k, r, h, s, n, v, d, f, b, w)
       ON CONFLICT (patient_id) DO UPDATE SET resident_id = EXCLUDED.resident_id, holder = EXCLUDED.holder, system = EXCLUDED.system, nhs_number = EXCLUDED.nhs_number,
         nhs_verified = EXCLUDED.nhs_verified, demographics = EXCLUDED.demographics, fingerprint = EXCLUDED.fingerprint, link_basis = EXCLUDED.link_basis,
         link_weight = EXCLUDED.link_weight, linked_at = EXCLUDED.linked_at, withdrawn_at = NULL`,
      [
        moved.map((s) => s.patientId),
        moved.map((s) => s.patientKey),
        moved.map((s) => s.residentId),
        moved.map((s) => s.holder),
        moved.map((s) => s.system),
        moved.map((s) => s.d.nhsNumber ?? null),
        moved.map((s) => s.d.nhsVerified),
        moved.map((s) => JSON.stringify(s.d)),
        moved.map((s) => s.fingerprint),
        moved.map((s) => s.basis),
        moved.map((s) => s.weight),
        now,
      ],
    );
  }
  for (const s of kept) {
    await q.query(
      `UPDATE mpi_source_patient SET holder = $2, system = $3, nhs_number = $4, nhs_verified = $5, demographics = $6::jsonb, fingerprint = $7,
         link_basis = CASE WHEN $8 THEN $9 ELSE link_basis END, link_weight = CASE WHEN $8 THEN $10 ELSE link_weight END
       WHERE patient_id = $1`,
      [s.patientId, s.holder, s.system, s.d.nhsNumber ?? null, s.d.nhsVerified, JSON.stringify(s.d), s.fingerprint, s.setBasis === true, s.basis, s.weight],
    );
  }
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/** The pairs involving these patients that a reviewer said are not the same person. */
async function rejectedPairs(q: Queryable, patientIds: readonly string[]): Promise<Set<string>> {
  const { rows } = await q.query<{ patient_a: string; patient_b: string }>('SELECT patient_a, patient_b FROM mpi_non_match WHERE patient_a = ANY($1::text[]) OR patient_b = ANY($1::text[])', [[...patientIds]]);
  return new Set(rows.map((r) => pairKey(r.patient_a, r.patient_b)));
}

export async function createResident(q: Queryable, at: Date): Promise<string> {
  const id = randomUUID();
  await q.query('INSERT INTO mpi_resident (id, created_at) VALUES ($1, $2)', [id, at]);
  return id;
}

export type LinkAction = 'registered' | 'linked' | 'queued' | 'relinked' | 'withdrawn' | 'restored' | 'merged' | 'unmerged' | 'accepted' | 'rejected';

export interface LinkEvent {
  action: LinkAction;
  patientId?: string | null;
  residentId: string;
  fromResident?: string | null;
  basis?: string | null;
  weight?: number | null;
  agent?: string;
  reason?: string | null;
}

/** Link events gathered during a write and saved in one statement. */
export class EventBatch {
  private readonly events: LinkEvent[] = [];
  constructor(private readonly at: Date) {}

  add(event: LinkEvent): void {
    this.events.push(event);
  }

  async save(q: Queryable): Promise<void> {
    if (this.events.length === 0) return;
    const e = this.events;
    await q.query(
      `INSERT INTO mpi_link_event (at, action, patient_id, resident_id, from_resident, basis, weight, agent, reason)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[], $9::text[])`,
      [
        this.at,
        e.map((x) => x.action),
        e.map((x) => x.patientId ?? null),
        e.map((x) => x.residentId),
        e.map((x) => x.fromResident ?? null),
        e.map((x) => x.basis ?? null),
        e.map((x) => x.weight ?? null),
        e.map((x) => x.agent ?? LINKER_AGENT),
        e.map((x) => x.reason ?? null),
      ],
    );
    this.events.length = 0;
  }
}
