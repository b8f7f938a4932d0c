import { describe, expect, it } from 'vitest';
import { formatDate, formatNhsNumber, formatNumber, formatPounds } from './render.js';

describe('formatting for pages', () => {
  it('writes dates the NHS way', () => {
    expect(formatDate('2025-04-01')).toBe('1 April 2025');
    expect(formatDate(new Date('2022-07-01T09:00:00Z'))).toBe('1 July 2022');
    expect(formatDate(null)).toBe('');
  });

  it('groups thousands and rounds pounds', () => {
    expect(formatNumber(812712)).toBe('812,712');
    expect(formatNumber(1.256, 1)).toBe('1.3');
    expect(formatPounds(112000000)).toBe('£112,000,000');
    expect(formatPounds(112000000, true)).toBe('£112m');
    expect(formatPounds(850000, true)).toBe('£850,000');
  });

  it('writes an NHS number in three groups, and leaves anything else as it was', () => {
    // 943 476 5919 is the NHS's published example of a valid number.
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
    expect(formatNhsNumber('94347659')).toBe('94347659');
    expect(formatNhsNumber(undefined)).toBe('');
  });
});
