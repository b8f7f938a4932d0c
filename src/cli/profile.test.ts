import { type CliRun, runCli } from '../../test/support/cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../synthetic/generate.js';
import { profileOutput } from '../synthetic/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'openics-profile-cli-'));
const out = join(dir, 'out');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profileCli = (args: string[]): Promise<CliRun> => runCli('profile.ts', args);

describe('npm run profile', () => {
  beforeAll(async () => {
    await generate({ icb: 'QGH', people: 600, seed: 5, out, workers: 0 });
  }, 120_000);

  it('profiles a generated directory: population tables, activity and waits, each against its target', async () => {
    const profile = await profileOutput(out);
    expect(profile.population.residents).toBe(600);
    expect(profile.unlinked).toBe(0);
    const activity = new Map(profile.activity.rows.map((r) => [r.label.split(':')[0], r]));
    // Every resident is registered with a practice, so GP consultations are there at a plausible rate.
    expect(activity.get('gpConsultations')?.observed).toBeGreaterThan(2);
    expect(activity.get('edAttendances')?.observed).toBeGreaterThan(0.1);
    expect(profile.waits.reduce((s, w) => s + w.count, 0)).toBeGreaterThan(0);
    expect(profile.population.failed).toBe(0);
    // The practices' allergy labels, tied to residents through the ground truth: about 6% of adults have a penicillin one.
    const penicillin = profile.allergies.rows.find((r) => r.label.startsWith('penicillin'));
    expect(penicillin?.n).toBeGreaterThan(350);
    expect(penicillin?.observed).toBeGreaterThan(0.02);
    expect(penicillin?.pass).toBe(true);
  }, 60_000);

  it('prints the tables and exits 0 when every judged check passes (1 when one fails)', async () => {
    const { code, stdout } = await profileCli([out]);
    expect(stdout).toContain('Age pyramid');
    expect(stdout).toContain('Activity and the waiting list');
    expect(stdout).toContain('Allergy labels on the GP record');
    expect(stdout).toContain('Waiting times of the');
    expect(stdout).toMatch(/All checks: \d+ PASS, \d+ FAIL/);
    const failed = Number(/All checks: \d+ PASS, (\d+) FAIL/.exec(stdout)?.[1]);
    expect(code).toBe(failed > 0 ? 1 : 0);
  }, 60_000);

  it('answers a usage error or a directory that is not an output with one line and exit 2', async () => {
    const none = await profileCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: npm run profile -- <output directory/);
    const wrong = await profileCli([dir]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toMatch(/has no manifest.json/);
    expect(wrong.stderr.split('\n').filter(Boolean).length).toBe(1);
  }, 60_000);
});
