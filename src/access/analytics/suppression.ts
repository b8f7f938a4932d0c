/**
 * Small-number suppression for published and exported counts, as NHS England and the ONS
 * publish them: a count from 1 to 7 is not shown (primary suppression), and then, so that no
 * hidden count can be worked out by subtracting the others from a total, more counts are hidden
 * (secondary suppression). Zero is shown: it discloses nobody.
 *
 * The table's lines are its rows and its columns, each with its total: a line is a sum, so if
 * exactly one of its entries (cells and total) is hidden, that one can be recovered. Until no
 * line has exactly one hidden entry, each such line hides its next smallest shown non-zero cell,
 * or its total when it has none. Pairing every hidden count within its row and its column is the
 * standard practice; it rules out recovery by subtracting within a line (not every bound that
 * linear programming over the whole table might give).
 */

export interface CountTable {
  /** Row labels (e.g. practices). */
  rows: string[];
  /** Column labels (e.g. sex). A one-way table has a single column. */
  columns: string[];
  /** counts[row][column]: whole numbers, zero or more. */
  counts: number[][];
}

export interface SuppressionOptions {
  /** The largest count that is hidden: 1 to this (7 by default) is suppressed. */
  threshold?: number;
  /** Publish a total for each row (default: when there is more than one column). */
  rowTotals?: boolean;
  /** Publish a total for each column, and a grand total when rows are totalled too (default: true). */
  columnTotals?: boolean;
}

/** A count as published: the number, or null where it is hidden. */
export type Published = number | null;

export interface SuppressedTable {
  rows: string[];
  columns: string[];
  cells: Published[][];
  rowTotals?: Published[];
  columnTotals?: Published[];
  grandTotal?: Published;
  /** How many entries (cells and totals) were hidden because they were small, and to protect them. */
  primary: number;
  secondary: number;
}

interface Entry {
  value: number;
  hidden: boolean;
  /** A total is hidden only when a line has no cell left to hide. */
  total: boolean;
}

export function suppressSmallNumbers(table: CountTable, options: SuppressionOptions = {}): SuppressedTable {
  const threshold = options.threshold ?? 7;
  const nRows = table.rows.length;
  const nCols = table.columns.length;
  if (table.counts.length !== nRows || table.counts.some((row) => row.length !== nCols)) {
    throw new RangeError('counts must have one row per row label and one value per column label');
  }
  for (const row of table.counts) {
    for (const value of row) if (!Number.isInteger(value) || value < 0) throw new RangeError(`counts must be whole numbers of zero or more, got ${value}`);
  }
  const withRowTotals = options.rowTotals ?? nCols > 1;
  const withColumnTotals = options.columnTotals ?? true;
  const small = (value: number): boolean => value >= 1 && value <= threshold;

  const cells: Entry[][] = table.counts.map((row) => row.map((value) => ({ value, hidden: small(value), total: false })));
  const rowTotals: Entry[] = withRowTotals ? table.counts.map((row) => total(row.reduce((a, b) => a + b, 0))) : [];
  const columnTotals: Entry[] = withColumnTotals ? table.columns.map((_, c) => total(table.counts.reduce((sum, row) => sum + (row[c] ?? 0), 0))) : [];
  const grand: Entry | undefined = withRowTotals && withColumnTotals ? total(table.counts.flat().reduce((a, b) => a + b, 0)) : undefined;
  function total(value: number): Entry {
    return { value, hidden: small(value), total: true };
  }
  const all = [...cells.flat(), ...rowTotals, ...columnTotals, ...(grand ? [grand] : [])];
  const primary = all.filter((e) => e.hidden).length;

  // Every line that sums: each row (with its total) and each column (with its total), and the
  // totals themselves (column totals with the grand total, row totals with the grand total).
  const inner: Entry[][] = [];
  const outer: Entry[][] = [];
  if (withRowTotals) cells.forEach((row, r) => inner.push([...row, rowTotals[r] as Entry]));
  if (withColumnTotals) table.columns.forEach((_, c) => inner.push([...cells.map((row) => row[c] as Entry), columnTotals[c] as Entry]));
  if (grand) {
    outer.push([...columnTotals, grand]);
    outer.push([...rowTotals, grand]);
  }

  /** Hides one more entry in each line with exactly one hidden: the smallest shown non-zero cell, else the smallest shown non-zero total. */
  const pass = (lines: Entry[][]): boolean => {
    let changed = false;
    for (const line of lines) {
      if (line.filter((e) => e.hidden).length !== 1) continue;
      const shown = line.filter((e) => !e.hidden && e.value > 0);
      const pool = shown.some((e) => !e.total) ? shown.filter((e) => !e.total) : shown;
      if (pool.length === 0) continue; // the rest are zeros: the hidden entry is then zero-summed with a total that is hidden or absent
      pool.reduce((a, b) => (b.value < a.value ? b : a)).hidden = true;
      changed = true;
    }
    return changed;
  };
  // Rows and columns first, until they are safe; only then the totals, so a total is hidden
  // because its own line needs it rather than because a line of totals was looked at first.
  for (let changed = true; changed; ) changed = pass(inner) || pass(outer);
  const secondary = all.filter((e) => e.hidden).length - primary;
  const show = (e: Entry): Published => (e.hidden ? null : e.value);
  return {
    rows: table.rows,
    columns: table.columns,
    cells: cells.map((row) => row.map(show)),
    ...(withRowTotals ? { rowTotals: rowTotals.map(show) } : {}),
    ...(withColumnTotals ? { columnTotals: columnTotals.map(show) } : {}),
    ...(grand ? { grandTotal: show(grand) } : {}),
    primary,
    secondary,
  };
}
