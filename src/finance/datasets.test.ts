import { describe, expect, it } from 'vitest';
import { type ImportContext, COLUMNS, allocationRows, readAllocations, readFigures, readPlaceBudgets, readPlaceDefinitions, readStandards } from './datasets.js';
import { columnLetter, csvGrid, parseMoney, parseRate, toCsv } from './tabular.js';
import { looksLikeXlsx, readXlsx, writeXlsx } from './xlsx.js';

const ctx: ImportContext = {
  places: [
    { id: 'QGH-E06000019', name: 'Herefordshire', gssCode: 'E06000019' },
    { id: 'QGH-E07000237', name: 'Worcester', gssCode: 'E07000237' },
  ],
  practices: new Set(['M81001', 'M81002']),
  organisations: new Map([
    ['QGH', 'NHS Herefordshire and Worcestershire ICB'],
    ['RWP', 'Worcestershire Acute Hospitals NHS Trust'],
  ]),
};

const grid = (csv: string): string[][] => csvGrid(csv).grid;

describe('cells as finance teams write them', () => {
  it('reads money to the penny', () => {
    const pence = (s: string): number | string => {
      const c = parseMoney(s);
      return c.ok ? c.value : c.message;
    };
    expect(pence('1234567.89')).toBe(123456789);
    expect(pence('£1,234,567')).toBe(123456700);
    expect(pence('(1,234.50)')).toBe(-123450);
    expect(pence('-£12')).toBe(-1200);
    expect(pence('£-12')).toBe(-1200);
    expect(pence('1.2m')).toBe(120000000);
    expect(pence('£1.5bn')).toBe(150000000000);
    expect(pence('350k')).toBe(35000000);
    expect(pence('0.1')).toBe(10);
    expect(pence('1512400000.0000002')).toBe(151240000000);
    expect(pence('12,34x')).toContain('is not an amount of money');
    expect(pence('#REF!')).toContain('spreadsheet error #REF!');
  });

  it('reads rates', () => {
    expect(parseRate('3.5%')).toEqual({ ok: true, value: 0.035 });
    expect(parseRate('0.035')).toEqual({ ok: true, value: 0.035 });
    expect(parseRate('lots').ok).toBe(false);
  });

  it('names columns as a spreadsheet does', () => {
    expect([0, 1, 25, 26, 27, 701, 702].map(columnLetter)).toEqual(['A', 'B', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });
});

describe('importing tables, with the row and column of every problem', () => {
  it('reads allocations, skipping a title above the header and blank rows', () => {
    const csv = '\uFEFFNHS Herefordshire and Worcestershire ICB allocations,,,\n\nYear,Stream,Name,Amount (£),Source,Conditions\n2025/26,Core services,Core ICB allocation,"£1,512,400,000",NHS England,\n\n2025-26,PMC,Primary medical care,"156,000,000.00",NHS England,Ring-fenced\n';
    const { records, problems } = readAllocations(grid(csv));
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { year: 2025, stream: 'core_services', name: 'Core ICB allocation', amount: 151240000000, source: 'NHS England', conditions: null, recurrent: true },
      { year: 2025, stream: 'primary_medical_care', name: 'Primary medical care', amount: 15600000000, source: 'NHS England', conditions: 'Ring-fenced', recurrent: true },
    ]);
  });

  it('names the row and column of each malformed cell', () => {
    const csv = 'year,stream,name,amount,source\n2025/26,Core services,Core,12x,NHS England\n2025/27,Fish,Other,-5,NHS England\n2025/26,Capital,,100,\n';
    const { records, problems } = readAllocations(grid(csv));
    expect(records).toEqual([]);
    expect(problems.map((p) => p.field)).toEqual(['rows.2.amount', 'rows.3.year', 'rows.3.stream', 'rows.3.amount', 'rows.4.name', 'rows.4.source']);
    expect(problems[0]?.message).toBe('Row 2, column D (amount): “12x” is not an amount of money: write it like 1234567.89, £1,234,567 or (1,234) for a negative');
    expect(problems[1]?.message).toBe('Row 3, column A (year): “2025/27” is not a financial year: write it like 2025/26');
    expect(problems[3]?.message).toBe('Row 3, column D (amount): an allocation cannot be negative');
    expect(problems[4]?.message).toBe('Row 4, column C (name): is empty');
  });

  it('says which columns are missing, and that an empty file is empty', () => {
    const missing = readAllocations(grid('year,stream,amount\n2025/26,Core services,1\n'));
    expect(missing.problems.map((p) => p.field)).toEqual(['columns.name', 'columns.source']);
    expect(missing.problems[0]?.message).toContain('The file has no column “name”');
    expect(readAllocations(grid('')).problems[0]?.message).toBe('The file is empty');
    expect(readAllocations(grid('year,stream,name,amount,source\n')).problems[0]?.message).toBe('The file has a header row but no rows below it');
  });

  it('says when CSV itself is broken, and where', () => {
    const broken = csvGrid('year,stream\n2025/26,"Core\n');
    expect(broken.problems[0]?.message).toContain('a quoted cell is never closed');
  });

  it('finds repeated rows', () => {
    const { problems } = readPlaceBudgets(grid('year,stream,place,amount\n2025/26,core,Herefordshire,1\n2025/26,core,E06000019,2\n'), ctx);
    expect(problems).toEqual([{ field: 'rows.3', message: 'Row 3: repeats row 2 (the same year, stream and place)' }]);
  });

  it('reads place budgets by place name, id or district code, and refuses other streams', () => {
    const { records, problems } = readPlaceBudgets(grid('Year,Stream,Place,Budget\n2025/26,Core services,herefordshire,"£1,000"\n2025/26,Primary medical care,QGH-E07000237,5\n2025/26,Capital,Worcester,1\n2025/26,Core services,Atlantis,1\n'), ctx);
    expect(records.map((r) => r.placeId)).toEqual(['QGH-E06000019', 'QGH-E07000237']);
    expect(problems.map((p) => p.message)).toEqual([
      'Row 4, column B (stream): places hold budgets for Core services and Primary medical care only, not Capital envelope',
      'Row 5, column C (place): “Atlantis” is not one of the ICS’s places: Herefordshire, Worcester',
    ]);
  });

  it('reads place definitions and refuses practices of other ICBs', () => {
    const { records, problems } = readPlaceDefinitions(grid('practice_code,place\nm81001,North\nA81001,South\n'), ctx);
    expect(records).toEqual([{ practiceCode: 'M81001', place: 'North' }]);
    expect(problems[0]?.message).toBe('Row 3, column A (practice): “A81001” is not a practice of this ICB in NHS England’s 2025/26 data');
  });

  it('reads standards lines, excluding by default what NHS England excludes, and asks why an excluded category counts', () => {
    const csv = 'year,standard,category,description,plan,outturn,excluded,reason\n2025/26,MHIS,Adult crisis and acute alternatives,Crisis teams,"10,000,000",,,\n2025/26,MHIS,ADHD,ADHD assessments,500000,,,\n2025/26,MHIS,ld_autism,LD with co-occurring MH,200000,,no,\n2025/26,MHIS,Astrology,Stars,1,,,\n';
    const { records, problems } = readStandards(grid(csv));
    expect(records.map((r) => [r.category, r.excluded, r.reason])).toEqual([
      ['crisis', false, null],
      ['adhd', true, 'ADHD spend is excluded from the compliance calculation'],
    ]);
    expect(problems.map((p) => p.field)).toEqual(['rows.4.reason', 'rows.5.category']);
    expect(problems[0]?.message).toContain('Learning disability and autism is excluded unless you say why it counts');
  });

  it('reads plans and actuals by month, and forecasts for the year', () => {
    const csv = 'organisation,year,kind,month,income,pay,non-pay\nRWP,2025/26,plan,Apr,"50,000,000","30,000,000","19,000,000"\nRWP,2025/26,actual,2025-10,1,1,1\nQGH,2025/26,forecast,,1,1,1\nRWP,2025/26,actual,Oct-24,1,1,1\nRWP,2025/26,actual,,1,1,1\nZZZ,2025/26,plan,M1,1,1,1\n';
    const { records, problems } = readFigures(grid(csv), ctx);
    expect(records.map((r) => [r.orgCode, r.kind, r.month])).toEqual([
      ['RWP', 'plan', 1],
      ['RWP', 'actual', 7],
      ['QGH', 'forecast', 0],
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      'Row 5, column D (month): “Oct-24” is not a month of 2025/26: write it like M7, Oct or 2025-10',
      'Row 6, column D (month): a actual needs its month',
      'Row 7, column A (organisation): “ZZZ” is not an organisation of this system’s financial position: QGH, RWP',
    ]);
  });
});

describe('spreadsheets (.xlsx)', () => {
  it('writes a workbook that reads back cell for cell, numbers as numbers', () => {
    const rows = allocationRows([{ year: 2025, stream: 'core_services', name: 'Core & more <allocation>', amount: 151240000012, source: 'NHS England', conditions: null, recurrent: true }]);
    const book = writeXlsx([{ name: 'Allocations 2025/26', header: COLUMNS.allocations, rows }]);
    expect(looksLikeXlsx(book)).toBe(true);
    const back = readXlsx(book);
    expect(back[0]).toEqual(COLUMNS.allocations);
    expect(back[1]).toEqual(['2025/26', 'Core services', 'Core & more <allocation>', '1512400000.12', 'NHS England', '', 'TRUE']);
    const { records, problems } = readAllocations(back);
    expect(problems).toEqual([]);
    expect(records[0]?.amount).toBe(151240000012);
  });

  it('keeps row numbers as the spreadsheet shows them in its messages', () => {
    const book = writeXlsx([{ name: 'Budgets', header: ['year', 'stream', 'place', 'amount'], rows: [['2025/26', 'Core services', 'Herefordshire', 5], ['2025/26', 'Core services', 'Worcester', '#REF!']] }]);
    const { problems } = readPlaceBudgets(readXlsx(book), ctx);
    expect(problems[0]?.message).toBe('Row 3, column D (amount): the cell holds the spreadsheet error #REF!; fix the formula and export again');
  });

  it('refuses a file that is not a spreadsheet, plainly', () => {
    expect(() => readXlsx(Buffer.from('PK\u0003\u0004 not really a zip'))).toThrow('not a spreadsheet that can be read');
  });

  it('writes CSV that reads back', () => {
    const csv = toCsv(['a', 'b'], [['x, y', 1], [null, true]]);
    expect(csv).toBe('a,b\n"x, y",1\n,yes\n');
  });
});
