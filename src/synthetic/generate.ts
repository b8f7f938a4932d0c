/**
 * The generator end to end: households (population.ts) → each resident's records (history.ts) →
 * each holder's copy (feeds.ts) → files (writer.ts).
 *
 * It streams: households are made in batches, written as soon as they are ready, and forgotten,
 * so memory does not grow with the population. With `workers` > 0, worker threads make disjoint
 * batches of households (any worker any batch) and the main thread writes them strictly in batch
 * order, so the bytes written never depend on the number of workers or on which finished first.
 * Each household draws only from its own seeded streams, so a batch can be made anywhere.
 */
import { Worker } from 'node:worker_threads';
import { householdNextOfKin, patientContact } from './contacts.js';
import { Feeds, type HolderFeed } from './feeds.js';
import { type Area, loadArea } from './geography.js';
import { historyOf } from './history.js';
import { DEFAULT_AS_OF, type Resident } from './model.js';
import { household, householdCount, householdRoles } from './population.js';
import { Random } from './random.js';
import { FeedWriter, type Manifest, type PackedBatch, type SpareBuffers, type WriterOptions, packResidents, prepareOutput } from './writer.js';

/** Named in the manifest; change it whenever the same seed would give different output. */
export const GENERATOR_VERSION = 'openics-synthetic 2';

/** Worker threads by default: one per core of the 2-core machine the targets are set for. */
export const DEFAULT_WORKERS = 2;

/** Households per batch: big enough to keep messages few, small enough to keep memory flat. */
const BATCH_HOUSEHOLDS = 40;
/** Batches a worker may have in hand at once (one being made, one waiting). */
const IN_FLIGHT_PER_WORKER = 2;

/**
 * Sub-streams of a household's `Random(seed, household)` for the later stages, by the resident's
 * position in the household: far from any label population.ts uses, so no two stages share draws.
 */
const HISTORY_STREAM = 2 ** 40;
const FEEDS_STREAM = 2 ** 41;
/** The household's next-of-kin draws (contacts.ts), one per resident. */
const CONTACTS_STREAM = 2 ** 42;

/** A bad argument (unknown ICB, unusable output directory): the message names the option. */
export class GenerateArgumentError extends Error {}

export interface Progress {
  residents: number;
  people: number;
  elapsedMs: number;
  perSecond: number;
  /** Undefined until a rate can be measured. */
  etaMs: number | undefined;
  done: boolean;
}

export interface GenerateOptions {
  icb: string;
  people: number;
  seed: number;
  /** The day histories run up to (YYYY-MM-DD); default DEFAULT_AS_OF. */
  asOf?: string;
  out: string;
  /** Worker threads (0: everything on this thread); default DEFAULT_WORKERS. */
  workers?: number;
  /** Called at least every second while generating, and once at the end with `done`. */
  onProgress?: (progress: Progress) => void;
  writer?: WriterOptions;
}

/** What a worker needs to make any household (plain data: it crosses to worker threads with the area). */
export interface ProducerParameters {
  icb: string;
  people: number;
  seed: number;
  asOf: string;
}

/** What the main thread asks of a worker: a batch, or to take back a written batch's buffers. */
export type WorkerRequest = { batch: number } | { spare: SpareBuffers };

export type BatchReply = { batch: number; packed: PackedBatch } | { batch: number; error: string };

/** Makes batches of households, packed for the writer; the same in a worker and on the main thread. */
export class HouseholdProducer {
  readonly area: Area;
  private readonly feeds: Feeds;
  /** Households in the population. */
  readonly households: number;
  /** Batches of households (the last may be short). */
  readonly batches: number;

  /** `area` saves loading it again (a worker gets the main thread's: loading parses the national files). */
  constructor(
    readonly parameters: ProducerParameters,
    area?: Area,
  ) {
    this.area = area ?? loadArea(parameters.icb);
    this.feeds = new Feeds(this.area.organisations, parameters.seed);
    this.households = householdCount(this.area, parameters);
    this.batches = Math.ceil(this.households / BATCH_HOUSEHOLDS);
  }

  /** The residents of one household, each with each holder's feed. */
  household(index: number): Array<{ resident: Resident; feeds: HolderFeed[] }> {
    const { seed, asOf } = this.parameters;
    const base = new Random(seed, index);
    const residents = household(this.area, this.parameters, index);
    const kin = householdNextOfKin(residents, householdRoles(this.area, this.parameters, index), base.fork(CONTACTS_STREAM), asOf);
    return residents.map((resident, position) => {
      const records = historyOf(resident, this.area.organisations, base.fork(HISTORY_STREAM + position), asOf);
      const next = kin[position];
      return { resident, feeds: this.feeds.feedsOf(resident, records, base.fork(FEEDS_STREAM + position), next === undefined ? [] : [patientContact(next)]) };
    });
  }

  /** Batch `batch` (0-based) of households, packed (into `spare` buffers when given). */
  batch(batch: number, spare?: SpareBuffers): PackedBatch {
    const residents: Array<{ resident: Resident; feeds: HolderFeed[] }> = [];
    const end = Math.min(this.households, (batch + 1) * BATCH_HOUSEHOLDS);
    for (let index = batch * BATCH_HOUSEHOLDS; index < end; index++) residents.push(...this.household(index));
    return packResidents(residents, spare);
  }
}

/** Reports progress at most once a second, with the rate over the last ten seconds. */
class ProgressClock {
  private readonly started = performance.now();
  private last = this.started;
  /** Recent (time, residents) samples, oldest first, spanning about ten seconds. */
  private readonly samples: Array<[number, number]> = [];
  residents = 0;

  constructor(
    private readonly people: number,
    private readonly report: ((progress: Progress) => void) | undefined,
  ) {}

  /** Reports if a second has passed since the last report. */
  tick(): void {
    const now = performance.now();
    if (now - this.last >= 1000) this.emit(now, false);
  }

  emit(now: number, done: boolean): void {
    this.last = now;
    this.samples.push([now, this.residents]);
    while (this.samples.length > 2 && now - (this.samples[1]?.[0] ?? now) >= 10_000) this.samples.shift();
    if (this.report === undefined) return;
    const elapsedMs = now - this.started;
    const [since, before] = this.samples[0] ?? [this.started, 0];
    const recent = now - since >= 1000 ? ((this.residents - before) * 1000) / (now - since) : 0;
    const perSecond = done ? (this.residents * 1000) / Math.max(1, elapsedMs) : recent;
    const etaMs = done ? 0 : perSecond > 0 ? ((this.people - this.residents) * 1000) / perSecond : undefined;
    this.report({ residents: this.residents, people: this.people, elapsedMs, perSecond, etaMs, done });
  }
}

function workerUrl(): URL {
  return new URL('./generate-worker.mjs', import.meta.url);
}

/** Runs the batches on worker threads, writing each in order as soon as it and those before it are in. */
export interface WorkerData {
  parameters: ProducerParameters;
  area: Area;
}

async function generateInWorkers(count: number, producer: HouseholdProducer, write: (batch: PackedBatch) => void, clock: ProgressClock): Promise<void> {
  const batches = producer.batches;
  const workerData: WorkerData = { parameters: producer.parameters, area: producer.area };
  const workers = Array.from({ length: count }, () => new Worker(workerUrl(), { workerData }));
  const timer = setInterval(() => clock.tick(), 250);
  try {
    await new Promise<void>((resolve, reject) => {
      let nextToSend = 0;
      let nextToWrite = 0;
      let failed = false;
      const waiting = new Map<number, { packed: PackedBatch; worker: Worker }>();
      const inHand = new Map<Worker, number>();
      const fail = (error: Error): void => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const send = (worker: Worker): void => {
        // Never further ahead of the writer than every worker's share: a slow batch must not let
        // finished ones pile up in memory behind it.
        while ((inHand.get(worker) ?? 0) < IN_FLIGHT_PER_WORKER && nextToSend < batches && nextToSend < nextToWrite + count * IN_FLIGHT_PER_WORKER) {
          worker.postMessage({ batch: nextToSend } satisfies WorkerRequest);
          nextToSend += 1;
          inHand.set(worker, (inHand.get(worker) ?? 0) + 1);
        }
      };
      for (const worker of workers) {
        worker.on('message', (reply: BatchReply) => {
          if (failed) return;
          inHand.set(worker, (inHand.get(worker) ?? 1) - 1);
          if ('error' in reply) {
            fail(new Error(`generating batch ${reply.batch} failed in a worker: ${reply.error}`));
            return;
          }
          waiting.set(reply.batch, { packed: reply.packed, worker });
          try {
            for (let ready = waiting.get(nextToWrite); ready !== undefined; ready = waiting.get(nextToWrite)) {
              waiting.delete(nextToWrite);
              write(ready.packed);
              nextToWrite += 1;
              // The buffers go back to the worker that filled them, for its next batch.
              const spare: SpareBuffers = { bytes: ready.packed.bytes.buffer as ArrayBuffer, ops: ready.packed.ops.buffer as ArrayBuffer };
              ready.worker.postMessage({ spare } satisfies WorkerRequest, [spare.bytes, spare.ops]);
            }
          } catch (error) {
            fail(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (nextToWrite >= batches) resolve();
          else for (const w of workers) send(w);
        });
        worker.on('error', (error) => fail(error));
        worker.on('exit', (code) => {
          if (code !== 0) fail(new Error(`a generator worker stopped with exit code ${code}`));
        });
      }
      if (batches === 0) resolve();
      for (const worker of workers) send(worker);
    });
  } finally {
    clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Generates a population and its feeds into `options.out`; returns the manifest written there. */
export async function generate(options: GenerateOptions): Promise<Manifest> {
  const asOf = options.asOf ?? DEFAULT_AS_OF;
  const workers = options.workers ?? DEFAULT_WORKERS;
  if (!Number.isSafeInteger(options.people) || options.people < 1) throw new GenerateArgumentError(`--people must be a whole number of at least 1, not ${options.people}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new GenerateArgumentError(`--seed must be a whole number of at least 0, not ${options.seed}`);
  if (!Number.isInteger(workers) || workers < 0) throw new GenerateArgumentError(`--workers must be a whole number of at least 0, not ${workers}`);
  const parameters: ProducerParameters = { icb: options.icb.trim().toUpperCase(), people: options.people, seed: options.seed, asOf };
  // The area is loaded here even with workers, so an unknown ICB is refused before anything is written.
  let producer: HouseholdProducer;
  try {
    producer = new HouseholdProducer(parameters);
  } catch (error) {
    throw new GenerateArgumentError(`--icb: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    prepareOutput(options.out);
  } catch (error) {
    throw new GenerateArgumentError(`--out: ${error instanceof Error ? error.message : String(error)}`);
  }

  const writer = new FeedWriter(options.out, options.writer);
  const clock = new ProgressClock(options.people, options.onProgress);
  const write = (batch: PackedBatch): void => {
    writer.write(batch);
    clock.residents = writer.written;
  };
  if (workers === 0) {
    for (let batch = 0; batch < producer.batches; batch++) {
      write(producer.batch(batch));
      clock.tick();
    }
  } else {
    await generateInWorkers(workers, producer, write, clock);
  }
  const manifest = writer.finish({ icb: parameters.icb, people: options.people, seed: options.seed, asOf, generator: GENERATOR_VERSION });
  if (manifest.counts.residents !== options.people) throw new Error(`generated ${manifest.counts.residents} residents where ${options.people} were asked for`);
  clock.emit(performance.now(), true);
  return manifest;
}
