import { type CliRun, runCli } from '../../test/support/cli.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AS_OF } from '../synthetic/model.js';
import { UsageError } from './generate.js';
import { parseLoadArgs } from './load.js';

const full = (overrides: Record<string, string>): string[] =>
  Object.entries({ '--icb': 'QGH', '--people': '30', '--seed': '7', ...overrides }).flatMap(([k, v]) => (v === '' ? [k] : [k, v]));

function refusal(args: string[]): string {
  try {
    parseLoadArgs(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
}

describe('npm run load: arguments', () => {
  it('takes the ICB, people, seed and as-of day, the ICB in any case', () => {
    expect(parseLoadArgs(['--icb', 'qgh', '--people', '20000', '--seed', '42', '--as-of', '2025-03-31'])).toEqual({ icb: 'QGH', people: 20_000, seed: 42, asOf: '2025-03-31', spaceCheck: true });
  });

  it('checks the disk unless --no-space-check', () => {
    expect(parseLoadArgs([...full({}), '--no-space-check'])).toMatchObject({ spaceCheck: false });
  });

  it('histories run up to the generator default day unless --as-of says otherwise', () => {
    expect(parseLoadArgs(full({}))).toMatchObject({ asOf: DEFAULT_AS_OF });
  });

  it('--help wins over everything else', () => {
    expect(parseLoadArgs(['--help'])).toBe('help');
    expect(parseLoadArgs([...full({}), '-h'])).toBe('help');
  });

  const cases: Array<[string, string[], RegExp]> = [
    ['no arguments', [], /--icb is required/],
    ['no --people', ['--icb', 'QGH', '--seed', '1'], /--people is required/],
    ['no --seed', ['--icb', 'QGH', '--people', '5'], /--seed is required/],
    ['an unknown option', [...full({}), '--out', 'x'], /Unknown option '--out'/],
    ['a missing value', ['--icb'], /--icb/],
    ['a malformed ICB code', full({ '--icb': 'Q-G' }), /--icb must be/],
    ['people not a number', full({ '--people': 'lots' }), /--people must be a whole number/],
    ['no people', full({ '--people': '0' }), /--people must be between/],
    ['a negative seed', full({ '--seed': '-1' }), /--seed/],
    ['an impossible day', full({ '--as-of': '2026-02-30' }), /--as-of must be a date/],
    ['a positional argument', [...full({}), 'extra'], /extra/],
  ];
  it.each(cases)('refuses %s, naming the option', (_name, args, message) => {
    expect(refusal(args)).toMatch(message);
  });
});

/** Runs `npm run load -- <args>` as npm does. */
const loadCli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli('load.ts', args, env);

describe('npm run load: the command', () => {
  it('says how to use it, and that running it again resumes a load', async () => {
    const { code, stdout } = await loadCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/usage: npm run load -- --icb/);
    expect(stdout).toMatch(/again/);
  }, 30_000);

  it('refuses a bad argument or an unknown ICB in one line naming the option, exit 2, before opening any database', async () => {
    const dataDir = join(tmpdir(), `openics-load-never-${process.pid}`);
    for (const args of [full({ '--people': 'many' }), full({ '--icb': 'ZZZ' })]) {
      const { code, stdout, stderr } = await loadCli(args, { OPENICS_DATA_DIR: dataDir, DATABASE_URL: '' });
      expect(existsSync(dataDir)).toBe(false);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(args.includes('ZZZ') ? /--icb: Unknown ICB/ : /--people must be a whole number/);
    }
  }, 60_000);

  it('says what a load will take, and refuses one the data directory\'s disk cannot hold, exit 1, before loading anything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openics-load-space-'));
    try {
      // Ten million residents: about 7 TB on the embedded engine, more than any test machine's disk.
      const { code, stderr } = await loadCli(full({ '--people': '10000000' }), { OPENICS_DATA_DIR: dataDir, DATABASE_URL: '', OPENICS_DEMO: 'false' });
      expect(code).toBe(1);
      expect(stderr).toMatch(/10,000,000 residents make about 700 million resources: about \d+ GiB of disk on the embedded engine/);
      expect(stderr).toMatch(/openics load: not enough disk: the load needs about \d+ GiB and the data directory \(.*openics-load-space-.*\) has [\d.]+ GiB free/);
      expect(stderr).not.toMatch(/loaded \d/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
