import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { NHS_NUMBER_SYSTEM, citizenPatients, patientIdsByNhsNumber } from './citizens.js';
import { hashPassword } from './passwords.js';
import {
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  accessFromSession,
  chooseRole,
  createSession,
  deleteExpiredSessions,
  endSession,
  findSession,
} from './sessions.js';
import { authenticatePassword, createUser, findUser, findUserByUsername, grantProxy, grantRole, revokeRole, setPassword, setUserDisabled } from './users.js';

let t: TestDatabase;
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  t = await openTestDatabase();
  loadFhirDefinitions();
});
afterAll(async () => t?.close());

describe('users', () => {
  it('creates a staff user with roles at organisations, found by id and by username in any case', async () => {
    const created = await createUser(t.db, {
      id: 'dr-one',
      username: 'Dr.One',
      displayName: 'Dr Ann One',
      kind: 'staff',
      password: PASSWORD,
      roles: [
        { role: 'doctor', organisation: 'M81001', nationalCode: 'R8000' },
        { role: 'leader', organisation: 'QGH' },
      ],
    });
    expect(created).toEqual({
      id: 'dr-one',
      username: 'dr.one',
      displayName: 'Dr Ann One',
      kind: 'staff',
      roles: [
        { role: 'doctor', organisation: 'M81001', nationalCode: 'R8000' },
        { role: 'leader', organisation: 'QGH' },
      ],
      disabled: false,
    });
    expect(await findUser(t.db, 'dr-one')).toEqual(created);
    expect(await findUserByUsername(t.db, '  DR.ONE ')).toEqual(created);
    expect(await findUser(t.db, 'nobody')).toBeUndefined();
    // The password is stored only as a scrypt hash.
    const { rows } = await t.db.query<{ password_hash: string }>("SELECT password_hash FROM access_user WHERE id = 'dr-one'");
    expect(rows[0]?.password_hash).toMatch(/^\$scrypt\$ln=16,r=8,p=2\$/);
    expect(rows[0]?.password_hash).not.toContain(PASSWORD);
  });

  it('refuses bad input with a problem for each field, and duplicates by the field taken', async () => {
    const error = await createUser(t.db, {
      id: 'X',
      username: 'a',
      displayName: ' ',
      kind: 'citizen',
      nhsNumber: '1234567890',
      password: 'short',
      roles: [{ role: 'doctor', organisation: 'm81001' }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual(['displayName', 'id', 'nhsNumber', 'password', 'roles.0.organisation', 'roles.0.role', 'username']);

    const taken = await createUser(t.db, { id: 'dr-one', username: 'DR.ONE', displayName: 'Again', kind: 'staff', roles: [{ role: 'nurse', organisation: 'RWP' }] }).catch((e: unknown) => e);
    expect((taken as ValidationError).problems.map((p) => p.field).sort()).toEqual(['id']);
    const takenName = await createUser(t.db, { id: 'dr-two', username: 'DR.ONE', displayName: 'Again', kind: 'staff', roles: [{ role: 'nurse', organisation: 'RWP' }] }).catch((e: unknown) => e);
    expect((takenName as ValidationError).problems).toEqual([{ field: 'username', message: 'is already taken by another user' }]);
    const staffWithNhsNumber = await createUser(t.db, { id: 'dr-three', username: 'dr3', displayName: 'Three', kind: 'staff', nhsNumber: '9990000018', roles: [{ role: 'nurse', organisation: 'RWP' }] }).catch((e: unknown) => e);
    expect((staffWithNhsNumber as ValidationError).problems.map((p) => p.field)).toEqual(['nhsNumber']);
  });

  it('authenticates the right password only, for an enabled user with a password', async () => {
    expect((await authenticatePassword(t.db, 'DR.ONE', PASSWORD))?.id).toBe('dr-one');
    expect(await authenticatePassword(t.db, 'dr.one', `${PASSWORD}!`)).toBeUndefined();
    expect(await authenticatePassword(t.db, 'no.such.user', PASSWORD)).toBeUndefined();
    expect(await authenticatePassword(t.db, 'dr.one', 'x'.repeat(10_000))).toBeUndefined();
    await createUser(t.db, { id: 'cis2-only', username: 'cis2.only', displayName: 'External', kind: 'staff', roles: [{ role: 'nurse', organisation: 'RWP' }], external: { issuer: 'https://cis2.example', subject: '5551234' } });
    expect(await authenticatePassword(t.db, 'cis2.only', PASSWORD)).toBeUndefined();

    await setUserDisabled(t.db, 'dr-one', true);
    expect(await authenticatePassword(t.db, 'dr.one', PASSWORD)).toBeUndefined();
    await setUserDisabled(t.db, 'dr-one', false);
    expect((await authenticatePassword(t.db, 'dr.one', PASSWORD))?.id).toBe('dr-one');
  });

  it('upgrades a hash made with older parameters at the next successful sign-in', async () => {
    const old = await hashPassword(PASSWORD, { ln: 12, r: 8, p: 1 });
    await createUser(t.db, { id: 'old-hash', username: 'old.hash', displayName: 'Old Hash', kind: 'staff', roles: [{ role: 'analyst', organisation: 'QGH' }], passwordHash: old });
    expect(await authenticatePassword(t.db, 'old.hash', 'wrong password here')).toBeUndefined();
    const stored = async (): Promise<string | undefined> => (await t.db.query<{ password_hash: string }>("SELECT password_hash FROM access_user WHERE id = 'old-hash'")).rows[0]?.password_hash;
    expect(await stored()).toBe(old);
    expect((await authenticatePassword(t.db, 'old.hash', PASSWORD))?.id).toBe('old-hash');
    const upgraded = await stored();
    expect(upgraded).toMatch(/^\$scrypt\$ln=16,r=8,p=2\$/);
    expect((await authenticatePassword(t.db, 'old.hash', PASSWORD))?.id).toBe('old-hash');
    expect(await stored()).toBe(upgraded);
  });

  it('sets a new password by the rules, which ends the user’s sessions', async () => {
    const user = await findUser(t.db, 'old-hash');
    if (!user) throw new Error('no user');
    const { token } = await createSession(t.db, user);
    await expect(setPassword(t.db, 'old-hash', 'old.hash-2025-password')).rejects.toThrow('Password must not contain your username');
    await setPassword(t.db, 'old-hash', 'another long password');
    expect(await findSession(t.db, token)).toBeUndefined();
    expect(await authenticatePassword(t.db, 'old.hash', PASSWORD)).toBeUndefined();
    expect((await authenticatePassword(t.db, 'old.hash', 'another long password'))?.id).toBe('old-hash');
  });
});

describe('sessions', () => {
  it('a user with one role acts in it at once; the cookie token is stored only as its hash', async () => {
    const user = await createUser(t.db, { id: 'nurse-one', username: 'nurse.one', displayName: 'Nurse One', kind: 'staff', roles: [{ role: 'nurse', organisation: 'RWP' }] });
    const { token, session } = await createSession(t.db, user);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.acting).toEqual({ role: 'nurse', organisation: 'RWP' });
    const { rows } = await t.db.query<{ token_hash: string }>("SELECT token_hash FROM access_session WHERE user_id = 'nurse-one'");
    expect(rows.map((r) => r.token_hash)).toEqual([session.tokenHash]);
    expect(rows[0]?.token_hash).not.toContain(token);

    const found = await findSession(t.db, token);
    expect(found?.user.id).toBe('nurse-one');
    expect(accessFromSession(found!, 'req-1')).toEqual({
      kind: 'user',
      subject: 'nurse-one',
      display: 'Nurse One',
      role: 'nurse',
      organisation: 'RWP',
      scopes: [{ context: 'user', type: '*', actions: 'cruds' }],
      purpose: 'TREAT',
      requestId: 'req-1',
    });
    // A token differing in its last character finds nothing (never the same character: 1 in 64 tokens ends in 'A').
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await findSession(t.db, altered)).toBeUndefined();
    expect(await findSession(t.db, 'not a token')).toBeUndefined();
    await endSession(t.db, session.tokenHash);
    expect(await findSession(t.db, token)).toBeUndefined();
  });

  it('a user with several roles has no role, and no scopes, until they choose one they hold', async () => {
    const user = await findUser(t.db, 'dr-one');
    if (!user) throw new Error('no user');
    const { token, session } = await createSession(t.db, user);
    expect(session.acting).toBeUndefined();
    const before = await findSession(t.db, token);
    expect(accessFromSession(before!).scopes).toEqual([]);
    expect(accessFromSession(before!).role).toBeUndefined();
    await expect(chooseRole(t.db, before!, { role: 'doctor', organisation: 'RWP' })).rejects.toThrow(ValidationError);
    await chooseRole(t.db, before!, { role: 'leader', organisation: 'QGH' });
    const after = accessFromSession((await findSession(t.db, token))!);
    expect([after.role, after.organisation, after.purpose]).toEqual(['leader', 'QGH', 'HOPERAT']);

    // Taking the role away ends the session acting in it.
    await revokeRole(t.db, 'dr-one', 'leader', 'QGH');
    expect(await findSession(t.db, token)).toBeUndefined();
    await grantRole(t.db, 'dr-one', { role: 'leader', organisation: 'QGH' });
  });

  it('ends after the idle limit and after the absolute limit, and deletes what expired', async () => {
    const user = await findUser(t.db, 'nurse-one');
    if (!user) throw new Error('no user');
    const start = new Date('2025-06-01T09:00:00Z');
    const at = (ms: number): Date => new Date(start.getTime() + ms);
    const idle = await createSession(t.db, user, { now: start });
    expect(await findSession(t.db, idle.token, at(SESSION_IDLE_MS - 1000))).toBeDefined();
    expect(await findSession(t.db, idle.token, at(2 * SESSION_IDLE_MS - 2000))).toBeDefined(); // the last request moved the idle limit
    expect(await findSession(t.db, idle.token, at(3 * SESSION_IDLE_MS))).toBeUndefined();

    const busy = await createSession(t.db, user, { now: start });
    let now = start.getTime();
    while (now + SESSION_IDLE_MS / 2 < start.getTime() + SESSION_MAX_MS) {
      now += SESSION_IDLE_MS / 2;
      expect(await findSession(t.db, busy.token, new Date(now))).toBeDefined();
    }
    expect(await findSession(t.db, busy.token, at(SESSION_MAX_MS))).toBeUndefined();

    await createSession(t.db, user, { now: start });
    expect(await deleteExpiredSessions(t.db, at(SESSION_MAX_MS + 1))).toBeGreaterThanOrEqual(1);
    expect((await t.db.query("SELECT 1 FROM access_session WHERE user_id = 'nurse-one'")).rows).toEqual([]);
  });

  it('a disabled user’s sessions end', async () => {
    const user = await findUser(t.db, 'nurse-one');
    if (!user) throw new Error('no user');
    const { token } = await createSession(t.db, user);
    await setUserDisabled(t.db, 'nurse-one', true);
    expect(await findSession(t.db, token)).toBeUndefined();
    await setUserDisabled(t.db, 'nurse-one', false);
  });
});

describe('citizens', () => {
  const MOTHER = '9990000018';
  const CHILD = '9990000387';
  const OTHER = '9990000751';
  const patient = (nhsNumber: string, family: string): { resourceType: 'Patient'; identifier: { system: string; value: string }[]; name: { family: string }[] } => ({
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }],
    name: [{ family }],
  });

  it('resolves a citizen’s own Patients (one per source organisation) and those they are proxy for, by NHS number', async () => {
    const store = new FhirStore(t.db);
    const gpCopy = await store.create(patient(MOTHER, 'Mother'));
    const hospitalCopy = await store.create(patient(MOTHER, 'Mother'));
    const child = await store.create(patient(CHILD, 'Child'));
    await store.create(patient(OTHER, 'Other'));
    // A local identifier with the same digits is not an NHS number.
    await store.create({ resourceType: 'Patient', identifier: [{ system: 'urn:local', value: MOTHER }] });

    const mother = await createUser(t.db, { id: 'citizen-mother', username: 'mother', displayName: 'A Mother', kind: 'citizen', nhsNumber: MOTHER, password: PASSWORD, roles: [{ role: 'citizen', organisation: 'QGH' }] });
    expect(await citizenPatients(t.db, mother, '2025-06-01')).toEqual({ ownPatients: [gpCopy.id, hospitalCopy.id].sort(), proxyPatients: [] });

    await grantProxy(t.db, 'citizen-mother', { nhsNumber: CHILD, relationship: 'PRN', validFrom: '2025-01-01', validTo: '2030-12-31' });
    expect(await citizenPatients(t.db, mother, '2025-06-01')).toEqual({ ownPatients: [gpCopy.id, hospitalCopy.id].sort(), proxyPatients: [child.id] });
    expect((await citizenPatients(t.db, mother, '2024-12-31')).proxyPatients).toEqual([]);
    expect((await citizenPatients(t.db, mother, '2031-01-01')).proxyPatients).toEqual([]);

    const { token } = await createSession(t.db, mother, { patients: await citizenPatients(t.db, mother, '2025-06-01') });
    const access = accessFromSession((await findSession(t.db, token))!);
    expect(access).toMatchObject({ kind: 'user', role: 'citizen', purpose: 'PATRQT', ownPatients: [gpCopy.id, hospitalCopy.id].sort(), proxyPatients: [child.id], scopes: [{ context: 'patient', type: '*', actions: 'rs' }] });
    expect(JSON.stringify(access)).not.toContain(MOTHER);
  });

  it('a citizen with no records yet has none, and staff have none', async () => {
    expect(await patientIdsByNhsNumber(t.db, ['9990001499'])).toEqual([]);
    const staff = await findUser(t.db, 'nurse-one');
    expect(await citizenPatients(t.db, staff!, '2025-06-01')).toEqual({ ownPatients: [], proxyPatients: [] });
  });

  it('refuses a proxy grant that is not for a citizen, not a valid NHS number, or for oneself', async () => {
    const error = await grantProxy(t.db, 'nurse-one', { nhsNumber: '1234567890', relationship: 'parent', validFrom: '2025-13-01' }).catch((e: unknown) => e);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual(['nhsNumber', 'proxyUserId', 'relationship']);
    const self = await grantProxy(t.db, 'citizen-mother', { nhsNumber: MOTHER, relationship: 'PRN', validFrom: '2025-01-01' }).catch((e: unknown) => e);
    expect((self as ValidationError).problems).toEqual([{ field: 'nhsNumber', message: 'is the proxy’s own NHS number' }]);
  });
});
