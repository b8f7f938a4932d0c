import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER, hasSignIn, signIn } from '../../test/support/access.js';
import { getJson, sendJson, startTestApp, type TestApp } from '../../test/support/app.js';
import { readXlsx, writeXlsx } from './xlsx.js';

interface Problems {
  error: string;
  message: string;
  problems: { field: string; message: string }[];
}

interface ScenarioJson {
  scenario: { id: string; name: string; policy: { name: string } };
  places: { key: string; name: string; population: number; index: Record<string, number> }[];
  streams: { stream: string; pot: number; potSource: string; places: { key: string; name: string; target: number; current: number | null; distance: number | null }[]; path: { yearLabel: string; total: number; places: { budget: number }[] }[] | null }[];
}

async function send(url: string, body: string | Buffer, type: string, auth: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': type, ...auth }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe(`finance API over HTTP (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestApp;
  /** The ICB's director of strategy, signed in: the user these calls are made as. */
  let auth: Record<string, string> = {};
  const base = (): string => `${t.url}/api/ics/QGH/finance`;
  beforeAll(async () => {
    t = await startTestApp();
    auth = (await signIn(t, LEADER)).headers;
  });
  afterAll(async () => {
    await t.close();
  });

  it('describes the finance operations in the OpenAPI document under the finance tag', async () => {
    const { body } = await getJson<{ paths: Record<string, Record<string, { tags?: string[] }>>; tags: { name: string }[] }>(`${t.url}/api/openapi.json`);
    expect(body.tags.map((x) => x.name)).toContain('finance');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/ics/{ics}/finance', '/api/ics/{ics}/finance/scenarios/{id}', '/api/ics/{ics}/finance/import/{dataset}', '/api/finance/need-indices']));
    expect(body.paths['/api/ics/{ics}/finance/scenarios/{id}']?.get?.tags).toEqual(['finance']);
  });

  it('takes changes only from someone signed in who acts as analyst, leader or administrator at the ICB', async (ctx) => {
    if (!hasSignIn(t)) ctx.skip();
    expect((await getJson(base())).status).toBe(401);
    expect((await sendJson('POST', `${base()}/place-definitions`, { name: 'Refused', basis: 'upper_tier' })).status).toBe(401);
    const board = await signIn(t, 'jane.morris');
    expect((await getJson(base(), board.headers)).status).toBe(200);
    const refused = await sendJson<{ message: string }>('POST', `${base()}/place-definitions`, { name: 'Refused', basis: 'upper_tier' }, board.headers);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('To change the finances of an ICS you need to act as analyst, place or system leader or administrator at QGH; you are acting as board member');
    // An analyst's request reaches the operation itself, which names what is missing.
    const analyst = await signIn(t, 'li.chen');
    const checked = await sendJson<Problems>('POST', `${base()}/place-definitions`, {}, analyst.headers);
    expect(checked.status).toBe(422);
    expect(checked.body.problems.map((p) => p.field)).toContain('name');
  });

  it('gives the single pot by stream, in pounds, with pounds per head', async () => {
    const { status, body } = await getJson<{ yearLabel: string; population: number; streams: { stream: string; total: number; perHead: number; lines: { source: string }[] }[] }>(base(), auth);
    expect(status).toBe(200);
    expect(body.yearLabel).toBe('2025/26');
    expect(body.population).toBe(837_510);
    const core = body.streams.find((s) => s.stream === 'core_services');
    expect(core?.total).toBe(1_512_400_000);
    expect(core?.perHead).toBeCloseTo(1_805.85, 1);
    expect(core?.lines[0]?.source).toContain('illustrative');
    expect((await getJson(`${t.url}/api/ics/ZZZ/finance`, auth)).status).toBe(404);
  });

  it('works a scenario, drills down to practices, and compares scenarios side by side', async () => {
    const list = await getJson<{ saved: boolean; scenarios: { id: string; name: string }[] }>(`${base()}/scenarios`, auth);
    expect(list.body.scenarios.map((s) => s.name)).toEqual(['Districts', 'PCN clusters']);
    const [districts, clusters] = list.body.scenarios;
    const worked = await getJson<ScenarioJson>(`${base()}/scenarios/${districts?.id ?? ''}`, auth);
    expect(worked.status).toBe(200);
    const core = worked.body.streams.find((s) => s.stream === 'core_services');
    expect(core?.pot).toBe(1_512_400_000);
    expect(core?.places.reduce((a, p) => a + Math.round(p.target * 100), 0)).toBe(151_240_000_000);
    expect(core?.path?.map((y) => y.yearLabel)).toEqual(['2025/26', '2026/27', '2027/28', '2028/29', '2029/30', '2030/31']);
    const herefordshire = worked.body.places.find((p) => p.name === 'Herefordshire');
    expect(herefordshire?.index.core).toBe(1.022);

    const drill = await getJson<{ practices: { code: string; population: number; weightedPopulation: Record<string, number> }[]; index: { component: string; placePopulation: number; index: number }[] }>(
      `${base()}/scenarios/${districts?.id ?? ''}/places/${encodeURIComponent(herefordshire?.key ?? '')}`, auth,
    );
    expect(drill.status).toBe(200);
    expect(drill.body.practices).toHaveLength(18);
    expect(drill.body.index.find((i) => i.component === 'core')).toMatchObject({ placePopulation: 196_788, index: 1.022 });
    expect((await getJson(`${base()}/scenarios/${districts?.id ?? ''}/places/nowhere`, auth)).status).toBe(404);

    const compared = await getJson<{ scenarios: ScenarioJson[] }>(`${base()}/compare?scenarios=${districts?.id ?? ''},${clusters?.id ?? ''}`, auth);
    expect(compared.body.scenarios.map((s) => s.places.length)).toEqual([7, 4]);
    expect(compared.body.scenarios.map((s) => s.scenario.policy.name)).toEqual(['Steady convergence', 'Faster convergence']);
  });

  it('computes need indices for any places of any ICB without storing anything, naming practices that are not the ICB’s', async () => {
    const ok = await sendJson<{ places: { name: string; index: Record<string, number> }[]; icb: { population: number } }>('POST', `${t.url}/api/finance/need-indices`, {
      icb: 'QWE',
      places: [{ name: 'Two practices', practices: ['H83001', 'H83004'] }],
    }, auth);
    expect(ok.status).toBe(200);
    expect(ok.body.icb.population).toBeGreaterThan(1_500_000);
    expect(Object.keys(ok.body.places[0]?.index ?? {})).toHaveLength(9);
    const bad = await sendJson<Problems>('POST', `${t.url}/api/finance/need-indices`, { icb: 'QWE', places: [{ name: 'Mixed', practices: ['H83001', 'M81001'] }] }, auth);
    expect(bad.status).toBe(422);
    expect(bad.body.problems).toEqual([{ field: 'places.0.practices.1', message: 'M81001 is not a practice of QWE in NHS England’s 2025/26 data' }]);
    expect((await sendJson('POST', `${t.url}/api/finance/need-indices`, { icb: 'ZZZ', places: [{ name: 'x', practices: ['A'] }] }, auth)).status).toBe(404);
  });

  it('saves a scenario with its own policy, and refuses bad input naming each field', async () => {
    const sets = await getJson<{ placeDefinitions: { id: string; basis: string }[] }>(`${base()}/place-definitions`, auth);
    const made = await sendJson<{ id: string; name: string }>('POST', `${base()}/place-definitions`, { name: 'Two counties', basis: 'upper_tier' }, auth);
    expect(made.status).toBe(201);
    expect(sets.body.placeDefinitions[0]?.basis).toBe('structure');
    const scenario = await sendJson<ScenarioJson>('POST', `${base()}/scenarios`, {
      name: 'Two counties',
      year: 2025,
      placeSetId: made.body.id,
      policy: { name: 'Three years', years: 3, icbGrowth: 0.03, minGrowth: 0.01, maxGrowth: 0.05, gapClosure: 0.33, protectionBand: 0 },
      weights: { core: null, pmcInequalitiesShare: 0.2 },
    }, auth);
    expect(scenario.status).toBe(201);
    expect(scenario.body.places.map((p) => p.name)).toEqual(['Herefordshire', 'Worcestershire']);
    expect(scenario.body.streams[0]?.path).toHaveLength(4);

    const schema = await sendJson<Problems>('POST', `${base()}/scenarios`, { name: '', year: 'soon', weights: {}, extra: 1 }, auth);
    expect(schema.status).toBe(422);
    expect(schema.body.problems.map((p) => p.field).sort()).toEqual(['extra', 'name', 'placeSetId', 'year']);
    const domain = await sendJson<Problems>('POST', `${base()}/scenarios`, { name: 'Districts', year: 2025, placeSetId: made.body.id, policyId: 'nope', weights: {} }, auth);
    expect(domain.status).toBe(422);
    expect(domain.body.problems.map((p) => p.field)).toEqual(['name', 'policyId']);
    const locked = await sendJson<Problems>('PATCH', `${base()}/place-definitions/${sets.body.placeDefinitions[0]?.id ?? ''}`, { rename: { from: 'Worcester', to: 'City' } }, auth);
    expect(locked.status).toBe(409);
  });

  it('checks the investment standards, the position and the risk share', async () => {
    const standards = await getJson<{ standards: { standard: string; status: string; minimum: number; plan: { shortfall: number }; reason: string }[] }>(`${base()}/standards?year=2025`, auth);
    expect(standards.body.standards.map((s) => [s.standard, s.status])).toEqual([
      ['mhis', 'met'],
      ['pmcs', 'not_met'],
    ]);
    expect(standards.body.standards[1]?.plan.shortfall).toBe(2_480_040);
    const position = await getJson<{ monthLabel: string; organisations: { orgCode: string }[]; target: { surplus: number }; delegatedBudgets: unknown[] }>(`${base()}/position`, auth);
    expect(position.body.monthLabel).toBe('October 2025');
    expect(position.body.target.surplus).toBe(0);
    expect(position.body.organisations).toHaveLength(4);
    const risk = await getJson<{ rules: { words: string }[]; applied: { partners: { transfer: number }[] } }>(`${base()}/risk-share`, auth);
    expect(risk.body.rules[0]?.words).toBe('Each partner keeps its own overspend or underspend up to £2,000,000; anything beyond goes into the shared pool.');
    expect(Math.round(risk.body.applied.partners.reduce((a, p) => a + p.transfer * 100, 0))).toBe(0);
    const bad = await sendJson<Problems>('PUT', `${base()}/risk-share/2025`, { name: 'x', residualOrgCode: 'QGH', rules: [{ kind: 'share_overspend', orgCode: 'RWP', value: 0.5 }] }, auth);
    expect(bad.status).toBe(422);
    expect(bad.body.problems[0]?.message).toBe('The shares of a net overspend add up to 50%; they must add up to 100%');
  });

  it('imports CSV and spreadsheets, naming the row and column of every problem and writing nothing then', async () => {
    const before = await getJson<{ allocations: unknown[] }>(`${base()}/allocations?year=2026`, auth);
    const bad = await send(`${base()}/import/allocations`, 'year,stream,name,amount,source\n2026/27,Core services,Core,"1,600,000,000",NHS England\n2026/27,Core services,Other,1.6bn,NHS England\n2026/27,Nope,Core,12x,NHS England\n', 'text/csv', auth);
    expect(bad.status).toBe(422);
    expect((bad.body as unknown as Problems).problems.map((p) => p.message)).toEqual([
      'Row 4, column B (stream): “Nope” is not a stream of the allocation: use one of Core services; Primary medical care; Specialised services; Other primary care (dental, pharmacy, ophthalmic); Running cost allowance; Transformation funding; Capital envelope',
      'Row 4, column D (amount): “12x” is not an amount of money: write it like 1234567.89, £1,234,567 or (1,234) for a negative',
    ]);
    expect((await getJson<{ allocations: unknown[] }>(`${base()}/allocations?year=2026`, auth)).body.allocations).toEqual(before.body.allocations);

    const book = writeXlsx([{ name: 'Allocations', header: ['Year', 'Stream', 'Name', 'Amount', 'Source'], rows: [['2026/27', 'Core services', 'Core ICB programme allocation', 1_571_900_000, 'NHS England']] }]);
    const good = await send(`${base()}/import/allocations`, book, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', auth);
    expect(good.status).toBe(200);
    expect(good.body.rows).toBe(1);
    const lines = await getJson<{ allocations: { amount: number }[] }>(`${base()}/allocations?year=2026`, auth);
    expect(lines.body.allocations.map((l) => l.amount)).toEqual([1_571_900_000]);

    const broken = await send(`${base()}/import/allocations`, Buffer.from('PK\u0003\u0004garbage'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', auth);
    expect(broken.status).toBe(422);
    expect((broken.body as unknown as Problems).problems[0]).toEqual({ field: 'file', message: 'The file is not a spreadsheet that can be read (it is not a complete .xlsx file)' });
  });

  it('exports tables as CSV and spreadsheets that import back', async () => {
    const csv = await fetch(`${base()}/export/place-budgets?year=2025`, { headers: auth });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('QGH-place-budgets-2025-26.csv');
    const text = await csv.text();
    expect(text.split('\n')[0]).toBe('year,stream,place,amount');
    expect(text).toContain('2025/26,Core services,Herefordshire,');
    const reimport = await send(`${base()}/import/place-budgets`, text, 'text/csv', auth);
    expect(reimport.status).toBe(200);
    expect(reimport.body.rows).toBe(14);

    const districts = (await getJson<{ scenarios: { id: string }[] }>(`${base()}/scenarios`, auth)).body.scenarios[0]?.id ?? '';
    const xlsx = await fetch(`${base()}/scenarios/${districts}/export?format=xlsx&table=need`, { headers: auth });
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const grid = readXlsx(Buffer.from(await xlsx.arrayBuffer()));
    expect(grid[0]?.[0]).toBe('place');
    expect(grid.find((r) => r[0] === 'Herefordshire')?.[3 + 9 + 6]).toBe('1.022');
    const position = await (await fetch(`${base()}/export/position?format=csv`, { headers: auth })).text();
    expect(position).toContain('System total');
  });
});
