/**
 * What a population load will take, said before it starts, and refused when the database's disk
 * cannot hold it: a whole ICB on PostgreSQL is about 200 GiB and many hours, so finding out after
 * hours, with the disk full (and PostgreSQL stopped by it), is the failure to avoid.
 *
 * The figures are measurements (docs/benchmarks.md, "Loading into the FHIR store"), not a model:
 * resources per resident of QGH with seed 42, bytes of database growth per resource on each
 * engine (indexes, history, access relationships and the master patient index included), and the
 * load's rate on the 2-core machine, which falls as the tables grow.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Resources a resident brings, all holders together (QGH, seed 42, with care records: 139,161 for 2,000). */
export const RESOURCES_PER_RESIDENT = 70;

/** Database growth per resource loaded, by engine (server: 20,000 and 50,000 residents; embedded: 2,000). */
export const BYTES_PER_RESOURCE = { server: 3_700, embedded: 10_600 } as const;

/** Resources a second, roughly, on the 2-core machine (server: 2,292 at 20,000 residents, 1,867 at 50,000; embedded: 1,695 at 2,000). */
export const RESOURCES_PER_SECOND = { server: 2_000, embedded: 1_700 } as const;

/** Refuse when the estimate is more than this share of the free space: indexes, WAL and the file system need room besides. */
const HEADROOM = 0.9;

export type Engine = keyof typeof BYTES_PER_RESOURCE;

export interface LoadEstimate {
  resources: number;
  bytes: number;
  seconds: number;
}

export function estimateLoad(people: number, engine: Engine): LoadEstimate {
  const resources = people * RESOURCES_PER_RESIDENT;
  return { resources, bytes: resources * BYTES_PER_RESOURCE[engine], seconds: resources / RESOURCES_PER_SECOND[engine] };
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 1 : 0)} GiB`;
const about = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)} million` : Math.round(n).toLocaleString('en-GB'));

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(seconds < 36_000 ? 1 : 0)} h`;
}

/** One line for the start of a load: how much, how big, how long. */
export function describeEstimate(people: number, engine: Engine, estimate: LoadEstimate): string {
  const where = engine === 'server' ? 'PostgreSQL' : 'the embedded engine';
  return `${people.toLocaleString('en-GB')} residents make about ${about(estimate.resources)} resources: about ${gib(estimate.bytes)} of disk on ${where} and ${formatDuration(estimate.seconds)} or more on a 2-core machine (the rate falls as the tables grow)`;
}

/** Bytes free for an unprivileged writer on the file system holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number | undefined {
  let at = path;
  while (!existsSync(at)) {
    const parent = dirname(at);
    if (parent === at) return undefined;
    at = parent;
  }
  const stats = statfsSync(at);
  return stats.bavail * stats.bsize;
}

/** Why the load cannot fit, or undefined when it can (or the free space is not known). */
export function spaceProblem(estimate: LoadEstimate, free: number | undefined, where: string): string | undefined {
  if (free === undefined || estimate.bytes <= free * HEADROOM) return undefined;
  return `not enough disk: the load needs about ${gib(estimate.bytes)} and ${where} has ${gib(free)} free. Free some space, load into a database on a larger disk, or load fewer residents (--people); --no-space-check loads anyway`;
}
