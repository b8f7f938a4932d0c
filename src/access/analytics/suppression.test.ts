import { describe, expect, it } from 'vitest';
import { type CountTable, type SuppressedTable, suppressSmallNumbers } from './suppression.js';

/**
 * The property that matters, checked independently of how the code gets there: every count
 * from 1 to 7 is hidden, zeros are shown, and no line that sums (a row with its total, a column
 * with its total, the totals with the grand total) has exactly one hidden entry.
 */
function assertSafe(table: CountTable, result: SuppressedTable): void {
  table.counts.forEach((row, r) =>
    row.forEach((value, c) => {
      const shown = result.cells[r]?.[c];
      if (value >= 1 && value <= 7) expect(shown, `cell ${r},${c} = ${value}`).toBeNull();
      if (value === 0) expect(shown, `zero at ${r},${c}`).toBe(0);
      if (shown !== null) expect(shown).toBe(value);
    }),
  );
  const lines: (number | null | undefined)[][] = [];
  if (result.rowTotals) result.cells.forEach((row, r) => lines.push([...row, result.rowTotals?.[r]]));
  if (result.columnTotals) result.columns.forEach((_, c) => lines.push([...result.cells.map((row) => row[c]), result.columnTotals?.[c]]));
  if (result.grandTotal !== undefined) {
    lines.push([...(result.columnTotals ?? []), result.grandTotal]);
    lines.push([...(result.rowTotals ?? []), result.grandTotal]);
  }
  for (const line of lines) expect(line.filter((v) => v === null).length, `a line reveals its one hidden entry: ${JSON.stringify(line)}`).not.toBe(1);
}

describe('suppressSmallNumbers', () => {
  it('a one-way table: the total would reveal the one small count, so the next smallest is hidden too', () => {
    // Residents with diabetes by practice: 3 at B would be 33 − 10 − 20 if only it were hidden.
    const table = { rows: ['A', 'B', 'C'], columns: ['residents'], counts: [[10], [3], [20]] };
    const result = suppressSmallNumbers(table);
    expect(result.cells).toEqual([[null], [null], [20]]);
    expect(result.columnTotals).toEqual([33]);
    expect(result.rowTotals).toBeUndefined();
    expect({ primary: result.primary, secondary: result.secondary }).toEqual({ primary: 1, secondary: 1 });
    assertSafe(table, result);
  });

  it('zero stays zero, and is never hidden to protect another count', () => {
    const table = { rows: ['A', 'B', 'C'], columns: ['n'], counts: [[0], [5], [12]] };
    const result = suppressSmallNumbers(table);
    expect(result.cells).toEqual([[0], [null], [null]]);
    expect(result.columnTotals).toEqual([17]);
    assertSafe(table, result);
  });

  it('a two-way table: secondary suppression follows the row and the column, until every line is safe', () => {
    //            female  male   total
    //   A          20      4      24     4 is small: hide it; row A then hides 20 (its only other count)
    //   B          15     30      45     column "male" hides 4 only: it hides 30, then row B hides 15
    //   C          40     50      90
    //   total      75     84     159
    const table = { rows: ['A', 'B', 'C'], columns: ['female', 'male'], counts: [[20, 4], [15, 30], [40, 50]] };
    const result = suppressSmallNumbers(table);
    expect(result.cells).toEqual([
      [null, null],
      [null, null],
      [40, 50],
    ]);
    expect(result.rowTotals).toEqual([24, 45, 90]);
    expect(result.columnTotals).toEqual([75, 84]);
    expect(result.grandTotal).toBe(159);
    expect({ primary: result.primary, secondary: result.secondary }).toEqual({ primary: 1, secondary: 3 });
    assertSafe(table, result);
  });

  it('hides a total when its line has no other count to hide', () => {
    // Row B is 9 and zeros: were column "x" to hide 9 (to protect A's 2), B's total 9 would give it away.
    const table = { rows: ['A', 'B'], columns: ['x', 'y', 'z'], counts: [[2, 0, 30], [9, 0, 0]] };
    const result = suppressSmallNumbers(table);
    assertSafe(table, result);
    expect(result.cells[1]).toEqual([null, 0, 0]);
    expect(result.rowTotals?.[1]).toBeNull();
  });

  it('hides a total for its own line before looking at the line of totals (no more than needed)', () => {
    //            female  male   total
    //   A           5      4      9      5 and 4 small; A's total 9 stays (two hidden already)
    //   B           3      0      3      3 small, and B's total 3
    //   C           0     20     20      the male column hides 20 (to protect 4); row C then hides its total
    //   total       8     24     32
    const table = { rows: ['A', 'B', 'C'], columns: ['female', 'male'], counts: [[5, 4], [3, 0], [0, 20]] };
    const result = suppressSmallNumbers(table);
    assertSafe(table, result);
    expect(result.cells).toEqual([[null, null], [null, 0], [0, null]]);
    expect(result.rowTotals).toEqual([9, null, null]);
    expect(result.columnTotals).toEqual([8, 24]);
    expect(result.grandTotal).toBe(32);
  });

  it('hides small totals like any small count', () => {
    const table = { rows: ['A', 'B'], columns: ['x', 'y'], counts: [[2, 0], [3, 0]] };
    const result = suppressSmallNumbers(table);
    assertSafe(table, result);
    expect(result.rowTotals).toEqual([null, null]);
    expect(result.columnTotals).toEqual([null, 0]);
    expect(result.grandTotal).toBeNull();
  });

  it('leaves a table with no small counts as it is', () => {
    const table = { rows: ['A', 'B'], columns: ['x', 'y'], counts: [[0, 10], [8, 12]] };
    const result = suppressSmallNumbers(table);
    expect(result.cells).toEqual(table.counts);
    expect(result.primary + result.secondary).toBe(0);
  });

  it('is safe for any table (a thousand random ones)', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 1000; i++) {
      const rows = 1 + random(6);
      const columns = 1 + random(5);
      const counts = Array.from({ length: rows }, () => Array.from({ length: columns }, () => [0, 1 + random(7), 8 + random(40), random(200)][random(4)] as number));
      const table = { rows: counts.map((_, r) => `r${r}`), columns: counts[0]?.map((_, c) => `c${c}`) ?? [], counts };
      assertSafe(table, suppressSmallNumbers(table));
    }
  });

  it('takes another threshold, and refuses counts that are not whole numbers', () => {
    expect(suppressSmallNumbers({ rows: ['A', 'B', 'C'], columns: ['n'], counts: [[9], [10], [30]] }, { threshold: 9 }).cells).toEqual([[null], [null], [30]]);
    expect(() => suppressSmallNumbers({ rows: ['A'], columns: ['n'], counts: [[1.5]] })).toThrow(/whole numbers/);
    expect(() => suppressSmallNumbers({ rows: ['A'], columns: ['n'], counts: [] })).toThrow(/one row per row label/);
  });
});
