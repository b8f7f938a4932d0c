/**
 * Blocking keys: which earlier records a new one is compared with. A true pair shares at least
 * one key unless the records disagree on nearly everything: the NHS number; the date of birth
 * (with day and month in order, so a swap still meets) with either name's initial; the postcode
 * with the surname's sound (household members, and a copy with a wrong date of birth); the
 * postcode with the given name's initial (a copy with an old surname).
 */
import { type Demographics, prepare } from './demographics.js';

export function blockingKeys(d: Demographics): string[] {
  const p = prepare(d);
  const keys: string[] = [];
  if (p.nhsNumber !== undefined) keys.push(`n:${p.nhsNumber}`);
  const givenInitial = p.given[0]?.[0] ?? '';
  const familyInitial = p.family[0] ?? '';
  if (p.year !== 0) {
    const low = Math.min(p.month, p.day);
    const high = Math.max(p.month, p.day);
    const date = `${p.year}-${low}-${high}`;
    if (givenInitial !== '') keys.push(`dg:${date}:${givenInitial}`);
    if (familyInitial !== '') keys.push(`df:${date}:${familyInitial}`);
  }
  if (p.postcode !== '' && p.postcode !== p.district) {
    if (p.familySoundex !== '') keys.push(`pf:${p.postcode}:${p.familySoundex}`);
    if (givenInitial !== '') keys.push(`pg:${p.postcode}:${givenInitial}`);
  }
  return keys;
}
