/**
 * How common each name is among the source records seen so far: the u probability of two
 * different people agreeing on a name is about the name's share of all records, so agreement on
 * a rare surname is stronger evidence than agreement on Smith.
 */
import { type Demographics, prepare } from './demographics.js';

/** How common a normalised name is among all source records, for the name-frequency adjustment. */
export interface NameFrequencies {
  /** The share of records with this family name (normalised as `frequencyKeys` gives it). */
  familyShare(name: string): number;
  /** The share of records with this first given name (normalised as `frequencyKeys` gives it). */
  givenShare(name: string): number;
}

/**
 * The shares are smoothed towards a typical name's share (`prior`) as if `PSEUDO_RECORDS` records
 * had been seen already, so the first records of a new index do not count every name as unique.
 */
const PSEUDO_RECORDS = 200;
export const TYPICAL_FAMILY_SHARE = 0.002;
export const TYPICAL_GIVEN_SHARE = 0.005;

/** The names a record adds to the frequency counts: its normalised family and first given name. */
export function frequencyKeys(d: Demographics): { family?: string; given?: string } {
  const p = prepare(d);
  const keys: { family?: string; given?: string } = {};
  if (p.family.length > 0) keys.family = p.family;
  if (p.given[0] !== undefined) keys.given = p.given[0];
  return keys;
}

/** Smoothed share of a name counted `count` times among `total` records. */
export function smoothedShare(count: number, total: number, typical: number): number {
  return (count + typical * PSEUDO_RECORDS) / (total + PSEUDO_RECORDS);
}

/** Name counts held in memory, updated as records are added and withdrawn. */
export class NameFrequencyTable implements NameFrequencies {
  private readonly family = new Map<string, number>();
  private readonly given = new Map<string, number>();
  private familyTotal = 0;
  private givenTotal = 0;

  add(d: Demographics): void {
    this.change(d, 1);
  }

  remove(d: Demographics): void {
    this.change(d, -1);
  }

  /** Records counted (with a family name). */
  get size(): number {
    return this.familyTotal;
  }

  familyShare(name: string): number {
    return smoothedShare(this.family.get(name) ?? 0, this.familyTotal, TYPICAL_FAMILY_SHARE);
  }

  givenShare(name: string): number {
    return smoothedShare(this.given.get(name) ?? 0, this.givenTotal, TYPICAL_GIVEN_SHARE);
  }

  private change(d: Demographics, by: 1 | -1): void {
    const { family, given } = frequencyKeys(d);
    // Removing a name that was never added changes nothing.
    if (family !== undefined && (by > 0 || this.family.has(family))) {
      const count = (this.family.get(family) ?? 0) + by;
      if (count > 0) this.family.set(family, count);
      else this.family.delete(family);
      this.familyTotal += by;
    }
    if (given !== undefined && (by > 0 || this.given.has(given))) {
      const count = (this.given.get(given) ?? 0) + by;
      if (count > 0) this.given.set(given, count);
      else this.given.delete(given);
      this.givenTotal += by;
    }
  }
}

/** No counts: every name is a typical name (for a single comparison without an index). */
export const TYPICAL_NAMES: NameFrequencies = {
  familyShare: () => TYPICAL_FAMILY_SHARE,
  givenShare: () => TYPICAL_GIVEN_SHARE,
};
