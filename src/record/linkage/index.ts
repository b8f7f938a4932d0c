/**
 * The record-linkage engine of the master patient index: pure functions, no database. The
 * database linker (../mpi) and the measurement against the generator's ground truth (measure.ts)
 * both use it, so what is measured is what runs.
 */
export { type Demographics, demographicsOf } from './demographics.js';
export { blockingKeys } from './blocking.js';
export { type NameFrequencies, NameFrequencyTable, TYPICAL_FAMILY_SHARE, TYPICAL_GIVEN_SHARE, TYPICAL_NAMES, frequencyKeys, smoothedShare } from './frequencies.js';
export { type FieldComparison, type LinkDecision, type LinkField, type PairScore, type Thresholds, DEFAULT_THRESHOLDS, M_U, scorePair } from './score.js';
export { type LinkAction, decideLink } from './decide.js';
