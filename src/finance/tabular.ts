/**
 * Reading the tables finance teams keep, from CSV or a spreadsheet, with messages that name the
 * row and column of every problem as the spreadsheet shows them (row 7, column D). Cells are
 * read the way people write them: "£1,234.56", "(1,234)" for a negative, "1.2m", "350k",
 * "3.5%", "Oct-25". A title or notes above the header row are skipped: the header is the first
 * row that names every required column.
 */
import type { Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { FieldProblem } from '../core/errors.js';

export type Grid = string[][];

/** Column A, B, … Z, AA, AB … for a 0-based index. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    letters = String.fromCharCode(65 + r) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** A header as it is compared: lower case, letters and digits only ("Non-pay (£)" → "nonpay"). */
export function headerKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/£|%/g, '')
    .replace(/[^a-z0-9]/g, '');
}

/** CSV text to a grid of cells. Malformed CSV (an unclosed quote) is a problem naming the line. */
export function csvGrid(text: string): { grid: Grid; problems: FieldProblem[] } {
  try {
    const options: Options = { bom: true, relax_column_count: true, skip_empty_lines: false, trim: false };
    const grid: Grid = parse(text, options);
    return { grid, problems: [] };
  } catch (error) {
    const e = error as { lines?: number; message?: string; code?: string };
    const line = typeof e.lines === 'number' ? e.lines : null;
    const what = e.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted cell is never closed' : e.code === 'CSV_INVALID_CLOSING_QUOTE' ? 'a quote is closed in the middle of a cell' : 'it is not valid CSV';
    return { grid: [], problems: [{ field: line ? `rows.${line}` : 'file', message: `${line ? `Row ${line}: ` : ''}The file cannot be read: ${what}. Save it from your spreadsheet as “CSV UTF-8”.` }] };
  }
}

export function toCsv(header: string[], rows: (string | number | boolean | null)[][]): string {
  return stringify(
    rows.map((r) => r.map((v) => (v === null ? '' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : v))),
    { header: true, columns: header },
  );
}

// ---- cells ----------------------------------------------------------------------------------

export type Cell<T> = { ok: true; value: T } | { ok: false; message: string };

const fail = <T>(message: string): Cell<T> => ({ ok: false, message });
const ok = <T>(value: T): Cell<T> => ({ ok: true, value });

const EXCEL_ERRORS = ['#REF!', '#VALUE!', '#DIV/0!', '#N/A', '#NAME?', '#NUM!', '#NULL!', '#SPILL!', '#CALC!'];

/** Money as finance teams write it, to whole pence. */
export function parseMoney(raw: string): Cell<number> {
  const text = raw.trim();
  if (EXCEL_ERRORS.includes(text.toUpperCase())) return fail(`the cell holds the spreadsheet error ${text}; fix the formula and export again`);
  let s = text.replace(/[\s,]/g, '').replace(/^GBP/i, '');
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1);
  }
  if (s.startsWith('-')) {
    negative = !negative;
    s = s.slice(1);
  }
  s = s.replace(/^£/, '');
  if (s.startsWith('-')) {
    negative = !negative;
    s = s.slice(1);
  }
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?(bn|m|k)?$/i.exec(s);
  if (!m) return fail(`“${text}” is not an amount of money: write it like 1234567.89, £1,234,567 or (1,234) for a negative`);
  const scale = { bn: 1e9, m: 1e6, k: 1e3 }[(m[3] ?? '').toLowerCase()] ?? 1;
  let pence: number;
  if (scale === 1 && m[2] === undefined) {
    // Exact from the digits: no binary rounding on the way.
    const [whole = '0', fraction = ''] = (m[1] ?? '0').split('.');
    if (fraction.length > 2 && /[1-9]/.test(fraction.slice(2))) {
      pence = Math.round(Number(m[1]) * 100);
    } else {
      pence = Number(whole || '0') * 100 + Number(fraction.slice(0, 2).padEnd(2, '0'));
    }
  } else {
    pence = Math.round(Number(m[1]) * Number(`1e${m[2] ?? 0}`) * scale * 100);
  }
  if (!Number.isSafeInteger(pence)) return fail(`“${text}” is too large an amount`);
  return ok(negative ? -pence : pence);
}

/** "3.5%" or "0.035" → 0.035. */
export function parseRate(raw: string): Cell<number> {
  const text = raw.trim();
  const m = /^(-?\d+(?:\.\d+)?|-?\.\d+)\s*(%)?$/.exec(text);
  if (!m) return fail(`“${text}” is not a percentage: write it like 3.5% or 0.035`);
  const n = Number(m[1]);
  return ok(m[2] ? n / 100 : n);
}

export function parseBoolean(raw: string): Cell<boolean> {
  const text = raw.trim().toLowerCase();
  if (['yes', 'y', 'true', '1', 'excluded', 'x'].includes(text)) return ok(true);
  if (['no', 'n', 'false', '0', 'included', ''].includes(text)) return ok(false);
  return fail(`“${raw.trim()}” is not yes or no`);
}

// ---- tables ---------------------------------------------------------------------------------

export interface ColumnSpec<T> {
  /** The name in the first row; also what the problem's field is called. */
  name: string;
  /** Other headers accepted for this column. */
  aliases?: string[];
  required: boolean;
  /** Reads one cell; blank cells of optional columns are not passed here. */
  read: (value: string) => Cell<T>;
}

export interface TableRow {
  /** The row number as the spreadsheet shows it (1 is the first row of the file). */
  row: number;
  values: Record<string, unknown>;
}

export interface Table {
  rows: TableRow[];
  problems: FieldProblem[];
  /** Where each column was found, for messages about a whole row. */
  columns: Map<string, number>;
}

/** Stop after this many problems: a wrong file would otherwise list every cell. */
export const MAX_PROBLEMS = 50;

export function problemAt(row: number, column: number | undefined, name: string, message: string): FieldProblem {
  return { field: `rows.${row}.${name}`, message: `Row ${row}${column === undefined ? '' : `, column ${columnLetter(column)} (${name})`}: ${message}` };
}

/**
 * Reads a grid against its columns: finds the header row, then reads each row below it. Blank
 * rows are skipped; a cell that cannot be read is a problem naming its row and column.
 */
export function readTable(grid: Grid, specs: ColumnSpec<unknown>[]): Table {
  const problems: FieldProblem[] = [];
  const required = specs.filter((s) => s.required);
  const names = (s: ColumnSpec<unknown>): string[] => [s.name, ...(s.aliases ?? [])].map(headerKey);
  let headerRow = -1;
  for (let r = 0; r < Math.min(grid.length, 20); r++) {
    const keys = new Set((grid[r] ?? []).map(headerKey));
    if (required.every((s) => names(s).some((n) => keys.has(n)))) {
      headerRow = r;
      break;
    }
  }
  if (grid.every((row) => row.every((c) => c.trim() === ''))) {
    return { rows: [], problems: [{ field: 'file', message: 'The file is empty' }], columns: new Map() };
  }
  if (headerRow < 0) {
    const first = (grid.find((row) => row.some((c) => c.trim() !== '')) ?? []).map(headerKey);
    const missing = required.filter((s) => !names(s).some((n) => first.includes(n))).map((s) => s.name);
    return {
      rows: [],
      problems: missing.map((m) => ({ field: `columns.${m}`, message: `The file has no column “${m}”. The header row must name the columns: ${specs.map((s) => s.name).join(', ')}.` })),
      columns: new Map(),
    };
  }
  const header = (grid[headerRow] ?? []).map(headerKey);
  const columns = new Map<string, number>();
  for (const s of specs) {
    const index = header.findIndex((h) => names(s).includes(h));
    if (index >= 0) columns.set(s.name, index);
  }
  const rows: TableRow[] = [];
  for (let r = headerRow + 1; r < grid.length; r++) {
    const cells = grid[r] ?? [];
    if (cells.every((c) => c.trim() === '')) continue;
    const values: Record<string, unknown> = {};
    for (const s of specs) {
      const index = columns.get(s.name);
      const raw = index === undefined ? '' : (cells[index] ?? '');
      if (raw.trim() === '') {
        if (s.required) problems.push(problemAt(r + 1, index, s.name, 'is empty'));
        continue;
      }
      const cell = s.read(raw);
      if (cell.ok) values[s.name] = cell.value;
      else problems.push(problemAt(r + 1, index, s.name, cell.message));
    }
    rows.push({ row: r + 1, values });
    if (problems.length >= MAX_PROBLEMS) break;
  }
  if (rows.length === 0 && problems.length === 0) problems.push({ field: 'file', message: 'The file has a header row but no rows below it' });
  return { rows, problems: problems.slice(0, MAX_PROBLEMS), columns };
}

export const text: ColumnSpec<string>['read'] = (v) => ok(v.trim());
export { fail, ok };
