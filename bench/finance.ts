/**
 * `npm run bench:finance`: recompute the need index of every place of all 42 ICBs, as NHS
 * England's place-based allocation tool computes them, drawn two ways: one place for each local
 * authority district of each ICB, and one for each primary care network. The target is under one
 * second for all of them.
 *
 * Reading NHS England's file (gunzip and CSV) is timed apart from the computation: it happens
 * once per process. Each run recomputes every place and every ICB total from the practices.
 *
 * Options: --runs N (default 7). Results are recorded in docs/benchmarks.md under "Finance".
 */
import os from 'node:os';
import { needIndices } from '../src/finance/allocation.js';
import { type NeedPractice, needIcbs, needPractices, needPracticesOf, placesBy } from '../src/finance/weighted-populations.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function groups(practices: NeedPractice[], by: Map<string, string>): { key: string; name: string; practices: NeedPractice[] }[] {
  const result = new Map<string, NeedPractice[]>();
  for (const p of practices) {
    const name = by.get(p.code) ?? '';
    const list = result.get(name);
    if (list) list.push(p);
    else result.set(name, [p]);
  }
  return [...result.entries()].map(([name, ps]) => ({ key: name, name, practices: ps }));
}

const runs = Number(argument('runs', '7'));
let started = performance.now();
const all = needPractices();
const icbs = needIcbs();
const loadMs = performance.now() - started;

/** Every place of every ICB, both ways; returns how many places and a checksum of their indices. */
function recomputeAll(): { places: number; lads: number; pcns: number; checksum: number } {
  let lads = 0;
  let pcns = 0;
  let checksum = 0;
  for (const icb of icbs) {
    const practices = needPracticesOf(icb.code);
    for (const basis of ['districts', 'pcns'] as const) {
      const result = needIndices(groups(practices, placesBy(practices, basis)), practices);
      if (basis === 'districts') lads += result.places.length;
      else pcns += result.places.length;
      for (const p of result.places) checksum += p.index.core + p.index.pmc;
    }
  }
  return { places: lads + pcns, lads, pcns, checksum };
}

const times: number[] = [];
let last = recomputeAll(); // warm-up: JIT and the per-ICB index of practices
for (let i = 0; i < runs; i++) {
  started = performance.now();
  last = recomputeAll();
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? 0;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const ms = (x: number): string => `${x.toFixed(1)} ms`;

process.stdout.write(
  [
    `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GB, node ${process.version}, ${os.platform()} ${os.release()}`,
    `data: ${all.length} practices in ${icbs.length} ICBs, read and prepared in ${ms(loadMs)} (once per process)`,
    `places: ${last.places} (${last.lads} local authority districts within ICBs, ${last.pcns} PCN groups), each with 9 need indices; checksum ${last.checksum.toFixed(3)}`,
    `recompute every place of all 42 ICBs: median ${ms(median)}, fastest ${ms(times[0] ?? 0)}, slowest ${ms(times[times.length - 1] ?? 0)} over ${runs} runs`,
    `target: under 1000 ms: ${median < 1000 ? 'met' : 'NOT MET'}`,
    '',
  ].join('\n'),
);
