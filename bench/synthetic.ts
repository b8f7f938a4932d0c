/**
 * `npm run bench:synthetic`: generates a synthetic population with full histories and feeds
 * (100,000 residents of QGH by default) into a temporary directory, and reports residents per
 * second, wall and CPU time, peak memory, and what was written. Targets (issue 4): 100,000
 * residents in under 2 minutes on the 2-core machine, memory under 1 GB whatever the size.
 *
 *   npm run bench:synthetic
 *   npm run bench:synthetic -- --people 20000 --workers 2 --keep
 *   npm run bench:synthetic -- --people 820000 --no-bundles   # NDJSON only: half the disk
 *
 * Worker threads share the process, so the process's resident set (sampled every 100 ms, and
 * the kernel's own high-water mark VmHWM) covers them, and `process.cpuUsage()` counts their CPU.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKERS, generate } from '../src/synthetic/generate.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '100000' },
    icb: { type: 'string', default: 'QGH' },
    seed: { type: 'string', default: '42' },
    workers: { type: 'string', default: String(DEFAULT_WORKERS) },
    keep: { type: 'boolean', default: false },
    'no-bundles': { type: 'boolean', default: false },
  },
});
const people = Number(values.people);
const workers = Number(values.workers);

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The kernel's peak resident set of this process (all threads), in bytes. */
function peakRss(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const out = mkdtempSync(join(tmpdir(), 'openics-bench-synthetic-'));
const cpu = cpus()[0]?.model ?? 'unknown';
process.stdout.write(
  `Synthetic population benchmark: ${people.toLocaleString('en-GB')} residents of ${values.icb}, seed ${values.seed}, ${workers} worker thread(s)${values['no-bundles'] ? ', no Bundles' : ''}\n` +
    `machine: ${cpus().length} CPUs (${cpu}), ${gib(totalmem())} RAM (${gib(freemem())} free), Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n` +
    `output: ${out}\n`,
);

let sampledPeak = 0;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
}, 100);
const cpuBefore = process.cpuUsage();
const started = performance.now();
let lastLine = 0;
try {
  const manifest = await generate({
    icb: values.icb,
    people,
    seed: Number(values.seed),
    out,
    workers,
    writer: { bundles: !values['no-bundles'] },
    onProgress: (p) => {
      sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
      if (p.done || p.elapsedMs - lastLine >= 10_000) {
        lastLine = p.elapsedMs;
        process.stdout.write(`  ${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${p.residents.toLocaleString('en-GB').padStart(9)} residents  ${Math.round(p.perSecond).toLocaleString('en-GB')}/s  rss ${mib(process.memoryUsage().rss)}\n`);
      }
    },
  });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const kernelPeak = peakRss();
  const seconds = wallMs / 1000;
  const rows: Array<[string, string]> = [
    ['residents', manifest.counts.residents.toLocaleString('en-GB')],
    ['wall time', `${seconds.toFixed(1)} s`],
    ['residents/s', Math.round(manifest.counts.residents / seconds).toLocaleString('en-GB')],
    ['CPU time (all threads)', `${((used.user + used.system) / 1e6).toFixed(1)} s (user ${(used.user / 1e6).toFixed(1)}, system ${(used.system / 1e6).toFixed(1)})`],
    ['peak RSS (sampled)', mib(sampledPeak)],
    ['peak RSS (VmHWM)', kernelPeak === undefined ? 'n/a' : mib(kernelPeak)],
    ['holder copies (Patients)', manifest.counts.patients.toLocaleString('en-GB')],
    ['resources', manifest.counts.resources.toLocaleString('en-GB')],
    ['resources/s', Math.round(manifest.counts.resources / seconds).toLocaleString('en-GB')],
    ['bytes written', `${gib(manifest.counts.bytes)} in ${manifest.files.length.toLocaleString('en-GB')} files (${manifest.counts.bundles.toLocaleString('en-GB')} Bundles)`],
    ['holders', String(Object.keys(manifest.counts.byHolder).length)],
    ['load average after', loadavg().map((l) => l.toFixed(2)).join(' ')],
  ];
  process.stdout.write(`\n| measure | value |\n|---|---:|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
} finally {
  clearInterval(sampler);
  if (values.keep) process.stdout.write(`kept ${out}\n`);
  else rmSync(out, { recursive: true, force: true });
}
