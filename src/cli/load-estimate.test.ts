import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_RESOURCE, RESOURCES_PER_RESIDENT, describeEstimate, estimateLoad, formatDuration, freeBytes, spaceProblem } from './load-estimate.js';

const GIB = 2 ** 30;

describe('what a population load will take', () => {
  it('scales the measured figures: the whole of QGH is about 200 GiB on PostgreSQL, three times that embedded', () => {
    const server = estimateLoad(820_000, 'server');
    expect(server.resources).toBe(820_000 * RESOURCES_PER_RESIDENT);
    expect(server.bytes / GIB).toBeGreaterThan(180);
    expect(server.bytes / GIB).toBeLessThan(220);
    expect(estimateLoad(820_000, 'embedded').bytes / server.bytes).toBeCloseTo(BYTES_PER_RESOURCE.embedded / BYTES_PER_RESOURCE.server, 5);
    expect(describeEstimate(820_000, 'server', server)).toMatch(/^820,000 residents make about 57 million resources: about 198 GiB of disk on PostgreSQL and 8\.0 h or more/);
    expect(describeEstimate(300, 'embedded', estimateLoad(300, 'embedded'))).toMatch(/^300 residents make about 21,000 resources: about 0\.2 GiB of disk on the embedded engine and 12 s or more/);
  });

  it('writes durations as a person would say them', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(75)).toBe('75 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(3 * 3600)).toBe('3.0 h');
    expect(formatDuration(40 * 3600)).toBe('40 h');
  });

  it('refuses only when the estimate is more than 90% of the free space, and never when the free space is not known', () => {
    const estimate = { resources: 1, bytes: 90 * GIB, seconds: 1 };
    expect(spaceProblem(estimate, 100 * GIB, 'the data directory (x)')).toBeUndefined();
    expect(spaceProblem(estimate, 99 * GIB, 'the data directory (x)')).toMatch(/^not enough disk: the load needs about 90 GiB and the data directory \(x\) has 99 GiB free\..*--no-space-check/);
    expect(spaceProblem(estimate, undefined, 'anywhere')).toBeUndefined();
  });

  it('measures the free space of a directory not made yet on the disk it will be made on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openics-free-'));
    try {
      const here = freeBytes(dir);
      expect(here).toBeGreaterThan(0);
      expect(freeBytes(join(dir, 'not', 'yet', 'made'))).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
