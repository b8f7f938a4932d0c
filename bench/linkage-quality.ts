/**
 * Record linkage quality against the synthetic generator's ground truth (issue 6): generates a
 * population's feeds in memory (every holder's Patient of every resident, with the truth of who
 * is who), runs the master patient index's linkage over them in feed order exactly as the
 * database linker does, and reports pairwise precision and recall, reviews, missed and false
 * links by flaw, pairs scored and time. No database: this measures the engine, not the store.
 *
 *   npx tsx bench/linkage-quality.ts --people 20000
 *   npx tsx bench/linkage-quality.ts --people 100000 --seed 7 --thresholds 26,14
 *
 * Generation (the synthetic histories) dominates the wall time; linkage is timed on its own.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { DEMO_SEED } from '../src/synthetic/demo.js';
import { HouseholdProducer } from '../src/synthetic/generate.js';
import { DEFAULT_AS_OF } from '../src/synthetic/model.js';
import { DEFAULT_THRESHOLDS, type Demographics, NameFrequencyTable, type Thresholds, demographicsOf, scorePair } from '../src/record/linkage/index.js';
import { type LinkageExample, type TruthRecord, measureLinkage, recordsOfHouseholds } from '../src/record/linkage/measure.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '20000' },
    icb: { type: 'string', default: 'QGH' },
    seed: { type: 'string', default: String(DEMO_SEED) },
    /** match,possible; give it more than once to compare settings on the same feeds. */
    thresholds: { type: 'string', multiple: true },
    examples: { type: 'string', default: '10' },
  },
});
const people = Number(values.people);
const seed = Number(values.seed);
const settings: Thresholds[] = (values.thresholds ?? []).map((text) => {
  const [match, possible] = text.split(',').map(Number);
  if (match === undefined || possible === undefined || !Number.isFinite(match) || !Number.isFinite(possible)) throw new Error('--thresholds takes match,possible (two numbers)');
  return { match, possible };
});
if (settings.length === 0) settings.push(DEFAULT_THRESHOLDS);

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const n = (x: number): string => x.toLocaleString('en-GB');
const pct = (x: number): string => `${(x * 100).toFixed(4)}%`;

process.stdout.write(
  `Record linkage quality: ${n(people)} residents of ${values.icb}, seed ${seed}\n` +
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${gib(totalmem())} RAM (${gib(freemem())} free), Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
);

const generationStarted = performance.now();
const producer = new HouseholdProducer({ icb: values.icb, people, seed, asOf: DEFAULT_AS_OF });
const records: TruthRecord[] = [];
for (let index = 0; index < producer.households; index++) {
  // Keep only each copy's Patient and its truth; the clinical records are not needed here.
  for (const r of recordsOfHouseholds([producer.household(index)])) records.push({ patient: r.patient, link: { resident: r.link.resident, holder: r.link.holder, flaws: r.link.flaws } });
}
const generationMs = performance.now() - generationStarted;
process.stdout.write(`generated ${n(records.length)} source Patients in ${(generationMs / 1000).toFixed(1)} s\n`);

const byFlaw = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([flaw, count]) => `${flaw} ${count}`)
    .join(', ') || 'none';
const example = (e: LinkageExample): string => `  ${e.holder} [${e.flaws.join(' ') || 'no flaw'}] ${e.sameResident ? 'same' : 'different'} resident, weight ${e.weight}: ${e.fields.join(' ')}\n`;

// Pair scoring alone: consecutive records (often one resident's copies, or a household's), warmed up first.
{
  const sample = records.slice(0, Math.min(records.length, 20_000)).map((r) => demographicsOf(r.patient));
  const frequencies = new NameFrequencyTable();
  for (const d of sample) frequencies.add(d);
  const round = (): void => {
    for (let i = 1; i < sample.length; i++) scorePair(sample[i] as Demographics, sample[i - 1] as Demographics, frequencies);
  };
  round();
  const rounds = 20;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) round();
  const us = ((performance.now() - started) * 1000) / (rounds * (sample.length - 1));
  process.stdout.write(`pair scoring: ${us.toFixed(2)} µs a pair (${n(rounds * (sample.length - 1))} pairs of consecutive records)\n`);
}

for (const thresholds of settings) {
  const q = measureLinkage(records, { thresholds, examples: Number(values.examples) });
  process.stdout.write(`\nthresholds match ${thresholds.match} / possible ${thresholds.possible}\n`);
  process.stdout.write(
    `residents ${n(q.residents)}, source records ${n(q.records)}, true pairs ${n(q.truePairs)}, linked pairs ${n(q.linkedPairs)}, correct ${n(q.correctPairs)}\n` +
      `precision ${pct(q.precision)}  recall ${pct(q.recall)}\n` +
      `reviews ${n(q.reviews)} (${n(q.reviewsWithTrueCandidate)} with the true resident among the candidates)\n` +
      `false links ${n(q.falseLinks)} by flaw: ${byFlaw(q.falseLinksByFlaw)}\n` +
      `missed links ${n(q.missedLinks)} by flaw: ${byFlaw(q.missedLinksByFlaw)}\n` +
      `pairs scored ${n(q.pairsScored)} (${q.candidatesPerRecord.toFixed(2)} candidate records per record)\n` +
      `linkage ${(q.ms / 1000).toFixed(2)} s: ${((q.ms * 1000) / Math.max(1, q.records)).toFixed(1)} µs per record, ${n(Math.round(q.records / (q.ms / 1000)))} records/s\n`,
  );
  if (q.reviewExamples.length > 0) process.stdout.write(`reviews (first ${q.reviewExamples.length}):\n${q.reviewExamples.map(example).join('')}`);
  if (q.falseLinkExamples.length > 0) process.stdout.write(`false links (first ${q.falseLinkExamples.length}):\n${q.falseLinkExamples.map(example).join('')}`);
  if (q.missedLinkExamples.length > 0) process.stdout.write(`missed links (first ${q.missedLinkExamples.length}):\n${q.missedLinkExamples.map(example).join('')}`);
}
