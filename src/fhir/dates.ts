/**
 * FHIR dates as the ranges they stand for. A FHIR date has the precision it was written with:
 * `2024` is the whole of 2024, `2024-03-02T10:00:00Z` is one second. Both indexing (what range a
 * stored value covers) and searching (what range a search value covers) use this one function,
 * so the two can never disagree.
 */

export interface InstantRange {
  /** ISO instant (UTC, millisecond precision) or '-infinity'. */
  readonly low: string;
  /** ISO instant, inclusive (the last millisecond of the range), or 'infinity'. */
  readonly high: string;
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * The instant range a FHIR date, dateTime or instant covers at its precision, or undefined when
 * the text is not one. Values without a time zone are read as UTC (NHS systems work in UK time;
 * the hour of difference in summer only matters for searches at hour precision).
 */
export function fhirDateRange(text: string): InstantRange | undefined {
  const date = DATE.exec(text);
  if (date) {
    const year = Number(date[1]);
    const month = date[2] === undefined ? undefined : Number(date[2]);
    const day = date[3] === undefined ? undefined : Number(date[3]);
    if (month !== undefined && (month < 1 || month > 12)) return undefined;
    const start = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
    if (day !== undefined && new Date(start).getUTCDate() !== day) return undefined;
    const end = month === undefined ? Date.UTC(year + 1, 0, 1) : day === undefined ? Date.UTC(year, month, 1) : start + 86_400_000;
    return { low: iso(start), high: iso(end - 1) };
  }
  const dt = DATE_TIME.exec(text);
  if (dt) {
    const [, y, mo, d, h, mi, s, fraction, zone] = dt;
    const offset = !zone || zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const millis = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
    const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), millis);
    if (Number.isNaN(local) || Number(mo) > 12 || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 60) return undefined;
    const start = local - offset * 60_000;
    const width = fraction ? 1 : s === undefined ? 60_000 : 1000;
    return { low: iso(start), high: iso(start + width - 1) };
  }
  return undefined;
}

function iso(millis: number): string {
  return new Date(millis).toISOString();
}
