/**
 * The hash chain on both engines: appends under concurrency, the database refusing changes,
 * tampering found at the row it happened, nothing identifying in the stored events, and how
 * many appends a second each engine takes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import type { AccessContext, AccessRecord } from '../context.js';
import { appendToChain, recordAccess, verifyAuditChain } from './trail.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const NURSE: AccessContext = { kind: 'user', subject: 'u-nurse-1', display: 'Sam Okafor', role: 'nurse', organisation: 'RLQ', scopes: [], purpose: 'TREAT' };

const access = (i: number, overrides: Partial<AccessRecord> = {}): AccessRecord => ({
  context: NURSE,
  action: i % 3 === 0 ? 'search' : 'read',
  outcome: 'success',
  patients: [`pat-${i % 17}`],
  what: i % 3 === 0 ? `Observation?patient=pat-${i % 17}` : `Patient/pat-${i % 17}`,
  at: new Date(Date.UTC(2026, 2, 1, 9, 0, i % 60)),
  ...overrides,
});

/** Runs `sql` with the append-only trigger off, as the table's owner (a superuser) could. */
async function asOwnerWithoutTrigger(sql: string, params: unknown[] = []): Promise<void> {
  await t.db.transaction(async (tx) => {
    await tx.query('ALTER TABLE access_audit_event DISABLE TRIGGER access_audit_event_append_only');
    await tx.query(sql, params);
    await tx.query('ALTER TABLE access_audit_event ENABLE TRIGGER access_audit_event_append_only');
  });
}

describe('the audit hash chain', () => {
  it('starts empty and verifies', async () => {
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, count: 0, head: '0'.repeat(64) });
  });

  it('stays one unbroken chain under many concurrent appends, from one process and from several transactions', async () => {
    const before = (await verifyAuditChain(t.db)).count;
    // Requests in one process: group-committed through recordAccess.
    const sequences = await Promise.all(Array.from({ length: 400 }, (_, i) => recordAccess(t.db, access(i))));
    expect(new Set(sequences).size).toBe(400);
    // Independent transactions, as other processes would append (on a server, separate connections
    // racing for the head's row lock).
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.db.transaction((tx) => appendToChain(tx, [access(i), access(i + 1)]))));
    const result = await verifyAuditChain(t.db);
    expect(result).toMatchObject({ ok: true, count: before + 440 });
    const rows = await t.db.query<{ n: number; first: number; last: number }>('SELECT count(*) AS n, min(sequence) AS first, max(sequence) AS last FROM access_audit_event');
    expect(rows.rows[0]).toEqual({ n: before + 440, first: 1, last: before + 440 });
  });

  it('indexes the Patients each event touched, for the citizen’s view', async () => {
    const touched = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM access_audit_event WHERE patients @> ARRAY['pat-3']`);
    expect(touched.rows[0]?.n).toBeGreaterThan(0);
    const sample = await t.db.query<{ patients: string[]; event: string }>(`SELECT patients, event FROM access_audit_event WHERE patients @> ARRAY['pat-3'] LIMIT 1`);
    expect(sample.rows[0]?.patients).toEqual(['pat-3']);
    expect(sample.rows[0]?.event).toContain('"reference":"Patient/pat-3"');
  });

  it('is append-only in the database: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await expect(t.db.query(`UPDATE access_audit_event SET action = 'read' WHERE sequence = 1`)).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM access_audit_event WHERE sequence = 1')).rejects.toThrow(/append-only/);
    await expect(t.db.query('TRUNCATE access_audit_event CASCADE')).rejects.toThrow(/append-only/);
    await expect(t.db.query('UPDATE access_audit_head SET sequence = 0')).rejects.toThrow(/only moves forward/);
    await expect(t.db.query('DELETE FROM access_audit_head')).rejects.toThrow(/only moves forward/);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('finds a changed event at that event, and a changed column, and rows removed from the end', async () => {
    const { count } = await verifyAuditChain(t.db);
    const original = (await t.db.query<{ event: string; patients: string[] }>('SELECT event, patients FROM access_audit_event WHERE sequence = 123')).rows[0];
    if (!original) throw new Error('no event 123');

    // Someone edits what event 123 says (who looked), keeping its hash.
    await asOwnerWithoutTrigger('UPDATE access_audit_event SET event = replace(event, $1, $2) WHERE sequence = 123', ['Sam Okafor', 'Jo Bloggs']);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: 123, count: 122, problem: 'its content does not match its hash' });

    // ... and recomputes its hash too: the next link breaks.
    const forged = (await t.db.query<{ event: string; previous_hash: string }>('SELECT event, previous_hash FROM access_audit_event WHERE sequence = 123')).rows[0];
    const { chainHash } = await import('./trail.js');
    await asOwnerWithoutTrigger('UPDATE access_audit_event SET hash = $1 WHERE sequence = 123', [chainHash(forged?.previous_hash ?? '', forged?.event ?? '')]);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: 124, problem: 'its previous hash is not the hash of event 123' });
    await asOwnerWithoutTrigger('UPDATE access_audit_event SET event = $1 WHERE sequence = 123', [original.event]);
    const restored = (await t.db.query<{ event: string; previous_hash: string }>('SELECT event, previous_hash FROM access_audit_event WHERE sequence = 123')).rows[0];
    await asOwnerWithoutTrigger('UPDATE access_audit_event SET hash = $1 WHERE sequence = 123', [chainHash(restored?.previous_hash ?? '', restored?.event ?? '')]);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true, count });

    // A column the citizen's view reads is changed, hiding an access from them.
    await asOwnerWithoutTrigger(`UPDATE access_audit_event SET patients = '{}' WHERE sequence = 50`);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: 50, problem: 'its patients column does not match its event' });
    const fifty = (await t.db.query<{ event: string }>('SELECT event FROM access_audit_event WHERE sequence = 50')).rows[0];
    const patients = (JSON.parse(fifty?.event ?? '{}') as { entity: { what?: { reference?: string } }[] }).entity.flatMap((e) => (e.what?.reference?.startsWith('Patient/') ? [e.what.reference.slice(8)] : []));
    await asOwnerWithoutTrigger('UPDATE access_audit_event SET patients = $1 WHERE sequence = 50', [patients]);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);

    // An event in the middle is deleted.
    const row = (await t.db.query<Record<string, unknown>>('SELECT * FROM access_audit_event WHERE sequence = 200')).rows[0];
    await asOwnerWithoutTrigger('DELETE FROM access_audit_event WHERE sequence = 200');
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: 200, problem: 'event 200 is missing (the next is 201)' });
    await asOwnerWithoutTrigger(
      `INSERT INTO access_audit_event SELECT * FROM json_populate_record(null::access_audit_event, $1::json)`,
      [JSON.stringify(row)],
    );
    expect((await verifyAuditChain(t.db)).ok).toBe(true);

    // The last event is deleted: only the head can tell.
    const lastRow = (await t.db.query<Record<string, unknown>>('SELECT * FROM access_audit_event WHERE sequence = $1', [count])).rows[0];
    await asOwnerWithoutTrigger('DELETE FROM access_audit_event WHERE sequence = $1', [count]);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: count, count: count - 1 });
    await asOwnerWithoutTrigger(`INSERT INTO access_audit_event SELECT * FROM json_populate_record(null::access_audit_event, $1::json)`, [JSON.stringify(lastRow)]);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true, count });
  });
});

describe('what the stored events say about residents', () => {
  it('holds no NHS number or name, only Patient reference ids', async () => {
    const db = t;
    const first = (await verifyAuditChain(db.db)).count + 1;
    {
      const resident = { id: 'b6f1c0de-1', nhsNumber: '9990000018', family: 'Featherstonehaugh', given: 'Imogen', birthDate: '1961-07-14', postcode: 'WR1 2AB' };
      const citizen: AccessContext = { kind: 'user', subject: 'c-imogen', display: `${resident.given} ${resident.family}`, role: 'citizen', ownPatients: [resident.id], scopes: [], purpose: 'PATRQT' };
      const records: AccessRecord[] = [
        access(1, { action: 'search', what: `Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${resident.nhsNumber}`, patients: [resident.id] }),
        access(2, { action: 'search', what: `Patient?family=${resident.family}&given=${resident.given}&birthdate=${resident.birthDate}`, patients: [resident.id] }),
        access(3, { action: 'search', what: `Patient?address-postalcode=${encodeURIComponent(resident.postcode)}`, patients: [resident.id] }),
        access(4, { action: 'search', what: `Observation?subject:Patient.identifier=${resident.nhsNumber}&code=8480-6`, patients: [resident.id] }),
        access(5, { action: 'break-glass', context: { ...NURSE, purpose: 'ETREAT' }, what: `Patient/${resident.id}`, patients: [resident.id], detail: `Collapsed in clinic, NHS number ${resident.nhsNumber.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3')}` }),
        access(6, { action: 'read', outcome: 'refused', detail: `no relationship with ${resident.nhsNumber}`, patients: [resident.id] }),
        access(7, { context: citizen, action: 'read', what: `Patient/${resident.id}`, patients: [resident.id] }),
        access(8, { action: 'operation', what: `Patient/${resident.id}/$everything`, patients: [resident.id] }),
      ];
      for (const r of records) await recordAccess(db.db, r);
      const stored = await db.db.query<{ event: string }>('SELECT event FROM access_audit_event WHERE sequence >= $1 ORDER BY sequence', [first]);
      expect(stored.rows).toHaveLength(records.length);
      for (const { event } of stored.rows) {
        // The query is stored base64: look inside it too.
        const decoded = (JSON.parse(event) as { entity?: { query?: string }[] }).entity?.map((e) => (e.query ? Buffer.from(e.query, 'base64').toString() : '')).join(' ') ?? '';
        for (const text of [event, decoded]) {
          expect(text).not.toContain(resident.nhsNumber);
          expect(text).not.toContain('999 000 0018');
          expect(text).not.toContain(resident.family);
          expect(text).not.toContain(resident.given);
          expect(text).not.toContain(resident.birthDate);
          expect(text).not.toContain('WR1');
        }
        expect(event).toContain(`Patient/${resident.id}`);
      }
      expect((await verifyAuditChain(db.db)).ok).toBe(true);
    }
  });
});

describe('a record the database refuses', () => {
  it('fails only its own request, not the others committed with it', async () => {
    const bad = access(1, { context: { ...NURSE, kind: 'robot' as AccessContext['kind'] } });
    const results = await Promise.allSettled([recordAccess(t.db, access(1)), recordAccess(t.db, access(2)), recordAccess(t.db, bad), recordAccess(t.db, access(3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });
});

describe('when the database is down', () => {
  it('recordAccess fails, so the request fails closed', async () => {
    const db = await openTestDatabase();
    await recordAccess(db.db, access(1));
    await db.close();
    await expect(recordAccess(db.db, access(2))).rejects.toThrow();
  });
});

describe('throughput', () => {
  it('appends hundreds of events a second, one at a time and concurrently', async () => {
    const db = t;
    const before = (await verifyAuditChain(db.db)).count;
    {
      const sequential = 300;
      let start = performance.now();
      for (let i = 0; i < sequential; i++) await recordAccess(db.db, access(i));
      const oneByOne = sequential / ((performance.now() - start) / 1000);
      const concurrent = 3000;
      start = performance.now();
      await Promise.all(Array.from({ length: concurrent }, (_, i) => recordAccess(db.db, access(i))));
      const grouped = concurrent / ((performance.now() - start) / 1000);
      console.log(`audit appends on the ${db.engine} engine: ${Math.round(oneByOne)}/s one at a time (a transaction each), ${Math.round(grouped)}/s from concurrent requests (group commit)`);
      start = performance.now();
      const verified = await verifyAuditChain(db.db);
      console.log(`verified ${verified.count} events in ${Math.round(performance.now() - start)} ms`);
      expect(verified).toMatchObject({ ok: true, count: before + sequential + concurrent });
      expect(oneByOne).toBeGreaterThan(20);
      expect(grouped).toBeGreaterThan(oneByOne);
    }
  });
});
