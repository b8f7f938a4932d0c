/**
 * Record linkage measured against the synthetic generator's ground truth, in memory: the same
 * incremental algorithm the database linker runs (records arrive in feed order; each is scored
 * against the earlier records that share a blocking key, grouped by the resident they were linked
 * to; `decideLink` says link, review or new; a review starts a new resident until a person decides),
 * then pairwise precision and recall of the residents it built against the true residents.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Flaw, GroundTruthLink, HolderFeed } from '../../synthetic/feeds.js';
import { blockingKeys } from './blocking.js';
import { decideLink } from './decide.js';
import { type Demographics, demographicsOf } from './demographics.js';
import { NameFrequencyTable } from './frequencies.js';
import { DEFAULT_THRESHOLDS, type PairScore, type Thresholds, scorePair } from './score.js';

/** One source Patient with what the ground truth says about it. */
export interface TruthRecord {
  patient: Patient;
  link: Pick<GroundTruthLink, 'resident' | 'holder' | 'flaws'>;
}

/** Every holder's Patient of each resident, in the order the demo and generator write them. */
export function* recordsOfHouseholds(households: Iterable<ReadonlyArray<{ feeds: readonly HolderFeed[] }>>): Generator<TruthRecord> {
  for (const household of households) {
    for (const { feeds } of household) {
      for (const feed of feeds) yield { patient: feed.patient, link: feed.link };
    }
  }
}

export interface MeasureOptions {
  thresholds?: Thresholds;
  /** How many reviews and errors to describe (no identifiers: flaws and field outcomes only). */
  examples?: number;
}

/** A linkage decision worth a look, described without identifying anyone. */
export interface LinkageExample {
  /** The new record's holder and flaws. */
  holder: string;
  flaws: Flaw[];
  /** Whether the candidate is the same resident in truth. */
  sameResident: boolean;
  weight: number;
  /** Field outcomes against the candidate's best record, e.g. `given:nickname`. */
  fields: string[];
}

export interface LinkageQuality {
  residents: number;
  records: number;
  /** Pairs of records that belong to one resident, in truth and as linked. */
  truePairs: number;
  linkedPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  /** Records sent to a person for review (counted as not linked). */
  reviews: number;
  /** Of them, how many had the right resident among the candidates. */
  reviewsWithTrueCandidate: number;
  /** Records linked to a resident who is not theirs, and records not linked to their resident already indexed, by flaw of the new record. */
  falseLinksByFlaw: Record<string, number>;
  missedLinksByFlaw: Record<string, number>;
  falseLinks: number;
  missedLinks: number;
  pairsScored: number;
  /** Mean candidate records per new record. */
  candidatesPerRecord: number;
  ms: number;
  reviewExamples: LinkageExample[];
  falseLinkExamples: LinkageExample[];
  missedLinkExamples: LinkageExample[];
}

interface Indexed {
  demographics: Demographics;
  cluster: number;
  truth: string;
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

function describe(record: TruthRecord, score: PairScore, sameResident: boolean): LinkageExample {
  return { holder: record.link.holder, flaws: record.link.flaws, sameResident, weight: Math.round(score.weight * 10) / 10, fields: score.fields.map((f) => `${f.field}:${f.outcome}`) };
}

function countFlaws(into: Record<string, number>, flaws: readonly Flaw[]): void {
  if (flaws.length === 0) into.none = (into.none ?? 0) + 1;
  for (const f of flaws) into[f] = (into[f] ?? 0) + 1;
}

export function measureLinkage(records: Iterable<TruthRecord>, options: MeasureOptions = {}): LinkageQuality {
  const started = performance.now();
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const examples = options.examples ?? 20;
  const frequencies = new NameFrequencyTable();
  const indexed: Indexed[] = [];
  const byKey = new Map<string, number[]>();
  /** The clusters each true resident's records went to, and the true residents in each cluster. */
  const clusterOfTruth = new Map<string, Map<number, number>>();
  const truthInCluster = new Map<number, Map<string, number>>();
  let clusters = 0;
  let pairsScored = 0;
  let reviews = 0;
  let reviewsWithTrueCandidate = 0;
  let falseLinks = 0;
  let missedLinks = 0;
  const falseLinksByFlaw: Record<string, number> = {};
  const missedLinksByFlaw: Record<string, number> = {};
  const reviewExamples: LinkageExample[] = [];
  const falseLinkExamples: LinkageExample[] = [];
  const missedLinkExamples: LinkageExample[] = [];

  for (const record of records) {
    const demographics = demographicsOf(record.patient);
    const truth = record.link.resident;
    const keys = blockingKeys(demographics);
    const seen = new Set<number>();
    const candidates: Array<{ resident: string; score: PairScore }> = [];
    /** The best-scoring earlier record of each cluster, to describe decisions. */
    const bestOf = new Map<number, { score: PairScore; truth: string }>();
    for (const key of keys) {
      for (const i of byKey.get(key) ?? []) {
        if (seen.has(i)) continue;
        seen.add(i);
        const other = indexed[i] as Indexed;
        const score = scorePair(demographics, other.demographics, frequencies, thresholds);
        pairsScored++;
        candidates.push({ resident: String(other.cluster), score });
        const held = bestOf.get(other.cluster);
        if (held === undefined || score.weight > held.score.weight) bestOf.set(other.cluster, { score, truth: other.truth });
      }
    }
    const action = decideLink(candidates);
    const truthClusters = clusterOfTruth.get(truth);
    let cluster: number;
    if (action.action === 'link') {
      cluster = Number(action.resident);
      if (!(truthInCluster.get(cluster)?.has(truth) ?? false)) {
        falseLinks++;
        countFlaws(falseLinksByFlaw, record.link.flaws);
        if (falseLinkExamples.length < examples) falseLinkExamples.push(describe(record, action.score, false));
      }
    } else {
      cluster = clusters++;
      if (action.action === 'review') {
        reviews++;
        const withTruth = action.candidates.some((c) => truthInCluster.get(Number(c.resident))?.has(truth) ?? false);
        if (withTruth) reviewsWithTrueCandidate++;
        if (reviewExamples.length < examples) {
          const first = action.candidates[0];
          if (first) reviewExamples.push(describe(record, first.score, truthInCluster.get(Number(first.resident))?.has(truth) ?? false));
        }
      }
    }
    if (truthClusters !== undefined && !truthClusters.has(cluster)) {
      missedLinks++;
      countFlaws(missedLinksByFlaw, record.link.flaws);
      if (missedLinkExamples.length < examples) {
        // The earlier record of the same resident that scored best, if blocking found one.
        let best: PairScore | undefined;
        for (const [c, b] of bestOf) if (truthClusters.has(c) && (best === undefined || b.score.weight > best.weight)) best = b.score;
        missedLinkExamples.push(best ? describe(record, best, true) : { holder: record.link.holder, flaws: record.link.flaws, sameResident: true, weight: Number.NaN, fields: ['not-blocked'] });
      }
    }
    const position = indexed.push({ demographics, cluster, truth }) - 1;
    for (const key of keys) {
      const list = byKey.get(key);
      if (list) list.push(position);
      else byKey.set(key, [position]);
    }
    frequencies.add(demographics);
    const inTruth = clusterOfTruth.get(truth) ?? new Map<number, number>();
    inTruth.set(cluster, (inTruth.get(cluster) ?? 0) + 1);
    clusterOfTruth.set(truth, inTruth);
    const inCluster = truthInCluster.get(cluster) ?? new Map<string, number>();
    inCluster.set(truth, (inCluster.get(truth) ?? 0) + 1);
    truthInCluster.set(cluster, inCluster);
  }

  let truePairs = 0;
  for (const byCluster of clusterOfTruth.values()) {
    let n = 0;
    for (const count of byCluster.values()) n += count;
    truePairs += pairs(n);
  }
  let linkedPairs = 0;
  let correctPairs = 0;
  for (const byTruth of truthInCluster.values()) {
    let n = 0;
    for (const count of byTruth.values()) {
      n += count;
      correctPairs += pairs(count);
    }
    linkedPairs += pairs(n);
  }
  return {
    residents: clusterOfTruth.size,
    records: indexed.length,
    truePairs,
    linkedPairs,
    correctPairs,
    precision: linkedPairs === 0 ? 1 : correctPairs / linkedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
    reviews,
    reviewsWithTrueCandidate,
    falseLinksByFlaw,
    missedLinksByFlaw,
    falseLinks,
    missedLinks,
    pairsScored,
    candidatesPerRecord: indexed.length === 0 ? 0 : pairsScored / indexed.length,
    ms: performance.now() - started,
    reviewExamples,
    falseLinkExamples,
    missedLinkExamples,
  };
}
