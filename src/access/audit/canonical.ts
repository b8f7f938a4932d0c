/**
 * Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): object members sorted by their
 * names' UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify
 * writes them. The audit trail hashes this text, so the same AuditEvent always hashes the same,
 * whoever serialises it.
 *
 * Written here rather than taken from a package: for the values an AuditEvent holds (strings,
 * finite numbers, booleans, arrays, objects) RFC 8785 is exactly "sort the keys, then
 * JSON.stringify", and JavaScript's default string sort is by UTF-16 code units, as the RFC says.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no representation for a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no representation for a ${typeof value}`);
}
