/**
 * String comparators for names and addresses: Jaro-Winkler (typing errors near the end weigh
 * less than at the start), Damerau-Levenshtein with adjacent transpositions (the optimal string
 * alignment form) and a Soundex code (spellings that sound alike). Short and dependency-free; the
 * inputs are normalised names of a few letters, so the quadratic forms cost well under a microsecond.
 */

/** Upper case A–Z only: accents folded, spaces, hyphens, apostrophes and digits dropped. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
}

/** The parts of a name written with spaces or hyphens (barrels of a double-barrelled surname). */
export function nameParts(name: string): string[] {
  return name
    .split(/[\s-]+/)
    .map(normaliseName)
    .filter((p) => p.length > 0);
}

const MATCHED_A = new Uint8Array(64);
const MATCHED_B = new Uint8Array(64);

/** Jaro-Winkler similarity in [0, 1], with the usual prefix scale 0.1 over at most 4 letters. */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  // Reused buffers: names are short, and allocating two arrays per comparison was most of its cost.
  const matchedA = la <= MATCHED_A.length ? MATCHED_A.fill(0, 0, la) : new Uint8Array(la);
  const matchedB = lb <= MATCHED_B.length ? MATCHED_B.fill(0, 0, lb) : new Uint8Array(lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 1 || a.charCodeAt(i) !== b.charCodeAt(j)) continue;
      matchedA[i] = 1;
      matchedB[j] = 1;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (matchedA[i] !== 1) continue;
    while (matchedB[k] !== 1) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const jaro = (matches / la + matches / lb + (matches - transpositions / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/**
 * Edits (insertion, deletion, substitution, transposition of adjacent letters) between a and b,
 * stopping early with `limit + 1` once it is certain to exceed `limit`.
 */
export function damerauLevenshtein(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > limit) return limit + 1;
  if (la === 0) return lb;
  if (lb === 0) return la;
  // Three rows: the one before last (for transpositions), the last and the current.
  let before = new Array<number>(lb + 1).fill(0);
  let last = Array.from({ length: lb + 1 }, (_, j) => j);
  let current = new Array<number>(lb + 1).fill(0);
  for (let i = 1; i <= la; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= lb; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let value = Math.min((last[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (last[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        value = Math.min(value, (before[j - 2] ?? 0) + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    [before, last, current] = [last, current, before];
  }
  return last[lb] ?? 0;
}

/**
 * Whether a and b are at most one edit apart (Damerau-Levenshtein ≤ 1): the same test as
 * `damerauLevenshtein(a, b, 1) <= 1` in one pass without allocating.
 */
export function withinOneEdit(a: string, b: string): boolean {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === la && i === lb) return true;
  if (la === lb) {
    // A substitution at i, or a transposition of i and i + 1.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a.charCodeAt(i) === b.charCodeAt(i + 1) && a.charCodeAt(i + 1) === b.charCodeAt(i) && a.slice(i + 2) === b.slice(i + 2);
  }
  // One insertion or deletion at i.
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

const SOUNDEX_DIGITS: Record<string, string> = {
  B: '1', F: '1', P: '1', V: '1',
  C: '2', G: '2', J: '2', K: '2', Q: '2', S: '2', X: '2', Z: '2',
  D: '3', T: '3',
  L: '4',
  M: '5', N: '5',
  R: '6',
};

/** The Soundex digit of a letter ('' for vowels and H, W, Y), so C and K, or G and J, sound alike. */
export function soundClass(letter: string): string {
  return SOUNDEX_DIGITS[letter] ?? '';
}

/** American Soundex of a normalised name (letter and three digits), '' for an empty name. */
export function soundex(name: string): string {
  if (name.length === 0) return '';
  let code = name[0] ?? '';
  let previous = SOUNDEX_DIGITS[code] ?? '';
  for (let i = 1; i < name.length && code.length < 4; i++) {
    const ch = name[i] ?? '';
    const digit = SOUNDEX_DIGITS[ch] ?? '';
    if (digit !== '' && digit !== previous) code += digit;
    // H and W do not separate letters with the same code; vowels do.
    if (ch !== 'H' && ch !== 'W') previous = digit;
  }
  return code.padEnd(4, '0');
}
