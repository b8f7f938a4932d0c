/**
 * What to do with a new source record, given its scores against the existing records of each
 * candidate resident: the one rule the database linker and the measurement both use.
 */
import type { PairScore } from './score.js';

export type LinkAction = { action: 'link'; resident: string; score: PairScore } | { action: 'review'; candidates: Array<{ resident: string; score: PairScore }> } | { action: 'new' };

/**
 * Pass every scored record of each candidate resident (a resident can appear many times). A
 * resident any of whose records has a verified NHS number other than the new record's verified
 * number is never linked: they are someone else. Of the rest, each resident's best score counts:
 * - exactly one resident matched on the verified NHS number: link to them;
 * - otherwise exactly one resident matches: link; two or more match: a person reviews them;
 * - some resident is a possible match: review;
 * - none: a new resident.
 * The scores returned are the very objects passed in, so a caller can tell which record decided.
 */
export function decideLink(candidates: ReadonlyArray<{ resident: string; score: PairScore }>): LinkAction {
  const excluded = new Set<string>();
  const best = new Map<string, PairScore>();
  for (const { resident, score } of candidates) {
    if (score.basis === 'nhs-number' && score.decision === 'no-match') excluded.add(resident);
    const held = best.get(resident);
    if (held === undefined || better(score, held)) best.set(resident, score);
  }
  const ranked = [...best].filter(([resident]) => !excluded.has(resident)).sort(([, x], [, y]) => (better(x, y) ? -1 : better(y, x) ? 1 : 0));
  const byNhs = ranked.filter(([, s]) => s.basis === 'nhs-number' && s.decision === 'match');
  if (byNhs.length === 1) {
    const [resident, score] = byNhs[0] as [string, PairScore];
    return { action: 'link', resident, score };
  }
  const matches = ranked.filter(([, s]) => s.decision === 'match');
  if (matches.length === 1) {
    const [resident, score] = matches[0] as [string, PairScore];
    return { action: 'link', resident, score };
  }
  const reviewable = ranked.filter(([, s]) => s.decision !== 'no-match');
  if (reviewable.length > 0) return { action: 'review', candidates: reviewable.map(([resident, score]) => ({ resident, score })) };
  return { action: 'new' };
}

const RANK: Record<string, number> = { match: 2, possible: 1, 'no-match': 0 };

/** A deterministic match first, then the stronger decision, then the higher weight. */
function better(x: PairScore, y: PairScore): boolean {
  const dx = x.basis === 'nhs-number' && x.decision === 'match' ? 3 : (RANK[x.decision] ?? 0);
  const dy = y.basis === 'nhs-number' && y.decision === 'match' ? 3 : (RANK[y.decision] ?? 0);
  return dx !== dy ? dx > dy : x.weight > y.weight;
}
