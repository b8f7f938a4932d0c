import { type CliRun, runCli } from '../../test/support/cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'openics-generate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generateCli = (args: string[]): Promise<CliRun> => runCli('generate.ts', args);

describe('npm run generate: bad arguments', () => {
  const full = (overrides: Record<string, string>): string[] =>
    Object.entries({ '--icb': 'QGH', '--people': '10', '--seed': '1', '--out': join(dir, 'out'), ...overrides }).flatMap(([k, v]) => (v === '' ? [] : [k, v]));

  const cases: Array<[string, string[], RegExp]> = [
    ['no arguments', [], /--icb is required/],
    ['an unknown option', [...full({}), '--colour', 'blue'], /Unknown option '--colour'/],
    ['a missing value', ['--icb'], /--icb/],
    ['people not a number', full({ '--people': 'lots' }), /--people must be a whole number, not "lots"/],
    ['people zero', full({ '--people': '0' }), /--people must be between 1 and/],
    ['seed not a whole number', full({ '--seed': '4.2' }), /--seed must be a whole number/],
    ['no output directory', full({ '--out': '' }), /--out is required/],
    ['an impossible date', full({ '--as-of': '2026-02-30' }), /--as-of must be a date written YYYY-MM-DD/],
    ['workers not a number', full({ '--workers': 'two' }), /--workers must be a whole number/],
    ['an ICB code of the wrong shape', full({ '--icb': 'Worcestershire' }), /--icb must be an ICB's three-character ODS code/],
    ['an ICB that does not exist', full({ '--icb': 'QZZ' }), /--icb: Unknown ICB code "QZZ"/],
  ];

  it('answers each with one line naming the option, and exit code 2', async () => {
    writeFileSync(join(dir, 'placeholder'), '');
    const all = [...cases, ['an output directory holding other files', full({ '--out': dir }), /--out: .* is not empty/] as [string, string[], RegExp]];
    const results = await Promise.all(all.map(async ([, args]) => generateCli(args)));
    all.forEach(([name, , message], i) => {
      const result = results[i];
      expect(result?.code, `${name}: ${result?.stderr}`).toBe(2);
      const lines = (result?.stderr ?? '').trim().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(message);
      expect(lines[0], name).toMatch(/^openics generate: /);
    });
  }, 120_000);

  it('prints its usage with --help', async () => {
    const result = await generateCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run generate -- --icb <ICB code> --people <n> --seed <n> --out <dir>/);
    expect(result.stdout).toContain('--workers');
  }, 60_000);
});
