import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMINISTRATOR, ensureTestUser, hasSignIn, signIn } from '../../test/support/access.js';
import { getJson, sendJson, startTestApp, type TestApp } from '../../test/support/app.js';

interface Problems {
  error: string;
  problems: { field: string; message: string }[];
}
interface Breaches {
  rulesPassed: boolean;
  breaches: { ruleId: string; words: string; source: { document: string } }[];
}

describe(`structure API over HTTP (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestApp;
  /** The ICB's head of corporate governance, signed in: the user these calls are made as. */
  let auth: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp();
    auth = (await signIn(t, ADMINISTRATOR)).headers;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /healthz once ready', async () => {
    const { status, body } = await getJson(`${t.url}/healthz`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
  });

  it('describes itself in an OpenAPI 3.1 document that lists the structure operations', async () => {
    const { status, body } = await getJson<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>(`${t.url}/api/openapi.json`);
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/ics', '/api/ics/{ics}/rules-check', '/api/ics/{ics}/bodies/{bodyId}/members', '/api/ics/{ics}/functions', '/api/ics/{ics}/delegations']));
    expect(body.paths['/api/ics/{ics}/bodies/{bodyId}/members']?.post?.requestBody).toBeDefined();
    expect(Object.keys(body.paths).some((p) => !p.startsWith('/api/'))).toBe(false);
  });

  it('shows the demo ICS with its real practices and populations', async () => {
    const { body } = await getJson<{ name: string; practices: number; pcns: number; places: { name: string; registeredPatients: number }[]; registeredPatients: number; rulesPassed: boolean }>(`${t.url}/api/ics/QGH`, auth);
    expect(body).toMatchObject({ name: 'Herefordshire and Worcestershire', practices: 80, pcns: 15, registeredPatients: 812_712, rulesPassed: true });
    expect(body.places.find((p) => p.name === 'Herefordshire')?.registeredPatients).toBe(192_218);
  });

  it('gives 404 with a JSON error for an unknown ICS or body', async () => {
    expect((await getJson(`${t.url}/api/ics/XYZ`, auth)).status).toBe(404);
    const missing = await getJson<Problems>(`${t.url}/api/ics/QGH/bodies/nothing`, auth);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('NotFoundError');
  });

  it('rejects bad input with 422 naming each field, and malformed JSON with 400', async () => {
    const bad = await sendJson<Problems>('POST', `${t.url}/api/ics/QGH/bodies/QGH-board/members`, { role: 'overlord', voting: 'yes', startDate: '1 April', nickname: 'x' }, auth);
    expect(bad.status).toBe(422);
    expect(bad.body.problems.map((p) => p.field).sort()).toEqual(['nickname', 'role', 'startDate', 'voting']);
    const malformed = await sendJson<Problems>('POST', `${t.url}/api/ics/QGH/bodies/QGH-board/members`, '{"role": ', auth);
    expect(malformed.status).toBe(400);
    const domain = await sendJson<Problems>('POST', `${t.url}/api/ics/QGH/bodies/QGH-board/members`, { role: 'member', startDate: '2026-02-30' }, auth);
    expect(domain.status).toBe(422);
    expect(domain.body.problems.map((p) => p.field).sort()).toEqual(['personName', 'startDate']);
    const asOf = await getJson<Problems>(`${t.url}/api/ics/QGH/rules-check?asOf=2026-13-45`, auth);
    expect(asOf.status).toBe(422);
    expect(asOf.body.problems[0]?.field).toBe('asOf');
  });

  it('shows a breach as soon as an edit causes one, with the rule’s words and source, and clears it when mended', async () => {
    const board = await getJson<{ members: { membershipId: string; role: string; current: boolean }[] }>(`${t.url}/api/ics/QGH/bodies/QGH-board`, auth);
    const cfo = board.body.members.find((m) => m.role === 'chief_finance_officer' && m.current);
    const ended = await sendJson<Breaches>('POST', `${t.url}/api/ics/QGH/bodies/QGH-board/members/${cfo?.membershipId ?? ''}/end`, { endDate: '2026-03-31' }, auth);
    expect(ended.status).toBe(200);
    expect(ended.body.rulesPassed).toBe(false);
    expect(ended.body.breaches.map((b) => b.ruleId)).toEqual(['icb-board-chief-finance-officer']);
    expect(ended.body.breaches[0]?.words).toContain('Chief Finance Officer');
    expect(ended.body.breaches[0]?.source.document).toContain('system design framework');

    const added = await sendJson<Breaches & { personId: string }>('POST', `${t.url}/api/ics/QGH/bodies/QGH-board/members`, {
      personName: 'Olu Bankole',
      role: 'chief_finance_officer',
      orgCode: 'QGH',
      startDate: '2026-04-01',
    }, auth);
    expect(added.status).toBe(201);
    expect(added.body.rulesPassed).toBe(true);
  });

  it("changes a place partnership's form through PATCH, validating the form", async () => {
    const wrong = await sendJson<Problems>('PATCH', `${t.url}/api/ics/QGH/bodies/QGH-place-E07000235`, { form: 'committee' }, auth);
    expect(wrong.status).toBe(422);
    expect(wrong.body.problems[0]?.field).toBe('form');
    const empty = await sendJson<Problems>('PATCH', `${t.url}/api/ics/QGH/bodies/QGH-place-E07000235`, {}, auth);
    expect(empty.status).toBe(422);
    const changed = await sendJson<Breaches & { body: { form: string } }>('PATCH', `${t.url}/api/ics/QGH/bodies/QGH-place-E07000235`, { form: 'joint_committee' }, auth);
    expect(changed.status).toBe(200);
    expect(changed.body.body.form).toBe('joint_committee');
    expect(changed.body.rulesPassed).toBe(true);
  });

  it('exports the functions and decisions map as JSON and CSV that agree', async () => {
    const json = await getJson<{ accountable: { code: string }; functions: { id: string; accountable: { code: string }; delegations: unknown[] }[] }>(`${t.url}/api/ics/QGH/functions`, auth);
    expect(json.body.accountable.code).toBe('QGH');
    expect(json.body.functions.every((f) => f.accountable.code === 'QGH')).toBe(true);
    const response = await fetch(`${t.url}/api/ics/QGH/functions?format=csv`, { headers: auth });
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(response.headers.get('content-disposition')).toContain('QGH-functions-and-decisions.csv');
    const lines = (await response.text()).trim().split('\n');
    expect(lines[0]).toBe('function_id,function,duty_from,accountable,function_budget_pounds,delegated_to,delegate_kind,place,delegated_budget_pounds,decisions,start_date,end_date,current');
    const expectedRows = json.body.functions.reduce((n, f) => n + Math.max(1, f.delegations.length), 0);
    expect(lines.length - 1).toBe(expectedRows);
  });

  it('delegates a function, and the map shows it', async () => {
    const created = await sendJson<{ id: string; functions: { id: string; delegations: { id: string; delegateName: string }[] }[] }>('POST', `${t.url}/api/ics/QGH/delegations`, {
      functionId: 'QGH-fn-specialised',
      toBodyId: 'QGH-committee-finance',
      budgetPounds: 5_000_000,
      decisions: 'Agree the specialised services financial plan',
      startDate: '2026-04-01',
    }, auth);
    expect(created.status).toBe(201);
    const fn = created.body.functions.find((f) => f.id === 'QGH-fn-specialised');
    expect(fn?.delegations.map((d) => d.delegateName)).toEqual(['Finance and Resources Committee']);
  });

  it('takes changes only from someone signed in who acts as administrator or leader at the ICB', async (ctx) => {
    if (!hasSignIn(t)) ctx.skip();
    const board = `${t.url}/api/ics/QGH/bodies/QGH-board`;
    expect((await getJson(board)).status).toBe(401);
    expect((await sendJson('PATCH', board, { quorum: 8 })).status).toBe(401);
    const analyst = await signIn(t, 'li.chen');
    expect((await getJson(board, analyst.headers)).status).toBe(200);
    const refused = await sendJson<{ message: string }>('PATCH', board, { quorum: 8 }, analyst.headers);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('To change the structure of an ICS you need to act as administrator or place or system leader at QGH; you are acting as analyst');
    const placeLeader = await signIn(t, 'sam.taylor');
    expect((await sendJson('PATCH', board, { quorum: 8 }, placeLeader.headers)).status).toBe(403);
    // The administrator of one ICB cannot build another's skeleton.
    expect((await sendJson('POST', `${t.url}/api/ics`, { code: 'QJK' }, auth)).status).toBe(403);
    expect((await getJson<{ quorum: number }>(board, auth)).body.quorum).not.toBe(8);
  });

  it("builds another ICB's skeleton on request", async () => {
    // Its own administrator builds it.
    await ensureTestUser(t, 'qjk.admin', [{ role: 'administrator', organisation: 'QJK' }]);
    const auth = (await signIn(t, 'qjk.admin')).headers;
    const created = await sendJson<{ code: string; name: string }>('POST', `${t.url}/api/ics`, { code: 'QJK' }, auth);
    expect(created.status).toBe(201);
    const list = await getJson<{ ics: { code: string }[] }>(`${t.url}/api/ics`, auth);
    expect(list.body.ics.map((i) => i.code).sort()).toEqual(['QGH', 'QJK']);
    expect((await sendJson('POST', `${t.url}/api/ics`, { code: 'QJK' }, auth)).status).toBe(409);
    expect((await sendJson('POST', `${t.url}/api/ics`, { code: 'TOO-LONG' }, auth)).status).toBe(422);
  });
});
