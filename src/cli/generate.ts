/**
 * `npm run generate -- --icb QGH --people 10000 --seed 42 --out <dir>`: a synthetic population of
 * an ICB and the feeds each partner organisation would send about it (src/synthetic/README.md).
 * The same arguments give byte-identical output. A progress line goes to standard error at least
 * every second; bad arguments get one line naming the option and exit code 2.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type GenerateOptions, type Progress, DEFAULT_WORKERS, GenerateArgumentError, generate } from '../synthetic/generate.js';
import { DEFAULT_AS_OF } from '../synthetic/model.js';

const USAGE = `usage: npm run generate -- --icb <ICB code> --people <n> --seed <n> --out <dir> [--as-of YYYY-MM-DD] [--workers <n>] [--no-bundles]

  --icb       the ICB's ODS code, e.g. QGH (Herefordshire and Worcestershire)
  --people    how many residents, e.g. 10000
  --seed      any whole number; the same seed gives the same population, byte for byte
  --out       the directory to write to: new, empty, or holding an earlier generation (replaced)
  --as-of     the day histories run up to (five years back from it); default ${DEFAULT_AS_OF}
  --workers   worker threads generating in parallel (0: all on the main thread); default ${DEFAULT_WORKERS}
  --no-bundles  write the NDJSON feeds only, not the transaction Bundles too (half the disk space)
  --help      this text
`;

/** A mistake in the arguments: the message names the option. */
export class UsageError extends Error {}

function wholeNumber(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number, not ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min.toLocaleString('en-GB')} and ${max.toLocaleString('en-GB')}, not ${value}`);
  return n;
}

/** Options by name: a string's value, or `true` for a flag given. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** The options of `args` (no positionals). Throws UsageError naming the option. */
export function parseOptions(args: string[], options: NonNullable<ParseArgsConfig['options']>): OptionValues {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options }).values as OptionValues;
  } catch (error) {
    // node:util's messages name the option ("Unknown option '--foo'", "Option '--icb <value>' argument missing").
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '') ?? String(error) : String(error));
  }
}

/** A string option's value; undefined when absent. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The options generate and load share: --icb, --people, --seed, --as-of (parseOptions' values). */
export function populationOptions(values: OptionValues): { icb: string; people: number; seed: number; asOf: string } {
  const text = (name: string): string | undefined => stringOption(values, name);
  const icb = text('icb')?.trim().toUpperCase();
  if (!icb) throw new UsageError('--icb is required, e.g. --icb QGH');
  if (!/^[A-Z0-9]{3}$/.test(icb)) throw new UsageError(`--icb must be an ICB's three-character ODS code such as QGH, not ${JSON.stringify(text('icb'))}`);
  const people = wholeNumber('people', text('people'), 1, 10_000_000);
  const seed = wholeNumber('seed', text('seed'), 0, Number.MAX_SAFE_INTEGER);
  const asOf = text('as-of') ?? DEFAULT_AS_OF;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`)) || new Date(`${asOf}T00:00:00Z`).toISOString().slice(0, 10) !== asOf) {
    throw new UsageError(`--as-of must be a date written YYYY-MM-DD, not ${JSON.stringify(asOf)}`);
  }
  return { icb, people, seed, asOf };
}

/** The options of a run, or 'help'. Throws UsageError naming the option at fault. */
export function parseGenerateArgs(args: string[]): Omit<GenerateOptions, 'onProgress'> | 'help' {
  const values = parseOptions(args, {
    icb: { type: 'string' },
    people: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'as-of': { type: 'string' },
    workers: { type: 'string' },
    'no-bundles': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  const text = (name: string): string | undefined => stringOption(values, name);
  const { icb, people, seed, asOf } = populationOptions(values);
  const out = text('out')?.trim();
  if (!out) throw new UsageError('--out is required: the directory to write the population to');
  const workers = text('workers') === undefined ? DEFAULT_WORKERS : wholeNumber('workers', text('workers'), 0, 64);
  return { icb, people, seed, out, asOf, workers, ...(values['no-bundles'] === true ? { writer: { bundles: false } } : {}) };
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function progressLine(p: Progress): string {
  const percent = Math.floor((100 * p.residents) / p.people);
  const rate = Math.round(p.perSecond).toLocaleString('en-GB');
  const tail = p.done ? `in ${duration(p.elapsedMs)}` : p.etaMs === undefined ? 'estimating time left' : `about ${duration(p.etaMs)} left`;
  return `generated ${p.residents.toLocaleString('en-GB')} of ${p.people.toLocaleString('en-GB')} residents (${percent}%), ${rate} residents/s, ${tail}`;
}

async function run(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseGenerateArgs>;
  try {
    options = parseGenerateArgs(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`openics generate: ${error.message} (see --help)\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const tty = process.stderr.isTTY;
  try {
    const manifest = await generate({
      ...options,
      onProgress: (p) => process.stderr.write(tty && !p.done ? `\r${progressLine(p)}\u001b[K` : `${tty ? '\r' : ''}${progressLine(p)}\n`),
    });
    process.stdout.write(
      `Wrote ${manifest.counts.residents.toLocaleString('en-GB')} residents: ${manifest.counts.patients.toLocaleString('en-GB')} patient records and ${manifest.counts.resources.toLocaleString('en-GB')} resources from ${Object.keys(manifest.counts.byHolder).length} organisations (${(manifest.counts.bytes / 1e6).toFixed(1)} MB) to ${options.out}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof GenerateArgumentError) {
      process.stderr.write(`openics generate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** Whether the module at `url` is the program being run, not imported (by a test, or `npm run load` for these helpers). */
export function isMainModule(url: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMainModule(import.meta.url)) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`openics generate: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
