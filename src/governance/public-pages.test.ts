import { describe, expect, it } from 'vitest';
import { fileSize, londonDate, meetingWhen, pageWindow, parseUkDate, poundsAndPence, renderMarkdown, startsAWord, ukDay, ukTime, withoutTitle } from './public-pages.js';

describe('UK time on the public site', () => {
  it('writes times the NHS way, in UK time', () => {
    // Greenwich Mean Time in winter: UTC is UK time.
    expect(ukTime(new Date('2026-01-15T10:00:00Z'))).toBe('10am');
    expect(ukTime(new Date('2026-01-15T14:30:00Z'))).toBe('2:30pm');
    expect(ukTime(new Date('2026-01-15T09:05:00Z'))).toBe('9:05am');
    expect(ukTime(new Date('2026-01-15T12:00:00Z'))).toBe('midday');
    expect(ukTime(new Date('2026-01-15T00:00:00Z'))).toBe('midnight');
    expect(ukTime(new Date('2026-01-15T12:30:00Z'))).toBe('12:30pm');
    expect(ukTime(new Date('2026-01-15T00:15:00Z'))).toBe('12:15am');
    // British Summer Time: UK time is an hour ahead of UTC.
    expect(ukTime(new Date('2026-07-09T09:00:00Z'))).toBe('10am');
    expect(ukTime(new Date('2026-07-09T23:00:00Z'))).toBe('midnight');
  });

  it('writes the day with its weekday, and the UK date across midnight', () => {
    expect(ukDay(new Date('2026-03-12T10:00:00Z'))).toBe('Thursday 12 March 2026');
    // 11:30pm UTC on 30 June is 12:30am on 1 July in the UK.
    expect(ukDay(new Date('2026-06-30T23:30:00Z'))).toBe('Wednesday 1 July 2026');
    expect(londonDate(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01');
    expect(londonDate(new Date('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
  });

  it('says when a meeting is, with its end time, on the day or across days', () => {
    expect(meetingWhen(new Date('2026-03-12T10:00:00Z'), new Date('2026-03-12T13:00:00Z'))).toBe('Thursday 12 March 2026, 10am to 1pm');
    expect(meetingWhen(new Date('2026-07-21T13:00:00Z'), new Date('2026-07-21T15:30:00Z'))).toBe('Tuesday 21 July 2026, 2pm to 4:30pm');
    expect(meetingWhen(new Date('2026-03-12T10:00:00Z'), null)).toBe('Thursday 12 March 2026, 10am');
    expect(meetingWhen(new Date('2026-03-12T17:00:00Z'), new Date('2026-03-13T12:00:00Z'))).toBe('Thursday 12 March 2026, 5pm to Friday 13 March 2026, midday');
    // The clocks go forward at 1am UTC on 29 March 2026.
    expect(meetingWhen(new Date('2026-03-29T00:30:00Z'), new Date('2026-03-29T01:30:00Z'))).toBe('Sunday 29 March 2026, 12:30am to 2:30am');
  });
});

describe('search input on the public site', () => {
  it('reads dates as people type them', () => {
    expect(parseUkDate('2026-03-12')).toBe('2026-03-12');
    expect(parseUkDate('2026-3-2')).toBe('2026-03-02');
    expect(parseUkDate('12/3/2026')).toBe('2026-03-12');
    expect(parseUkDate('12.03.2026')).toBe('2026-03-12');
    expect(parseUkDate(' 12 March 2026 ')).toBe('2026-03-12');
    expect(parseUkDate('12 mar 2026')).toBe('2026-03-12');
    expect(parseUkDate('1 Sept 2025')).toBe('2025-09-01');
    expect(parseUkDate('29 February 2028')).toBe('2028-02-29');
  });

  it('refuses what is not a real date', () => {
    for (const bad of ['', 'yesterday', '2025-13-45', '31/02/2026', '29 February 2026', '12 Ma 2026', '12 Smarch 2026', '2026-03-12T10:00', '0/1/2026', '1/1/1066', "1/1/2026'; DROP TABLE decision; --"]) {
      expect(parseUkDate(bad), bad).toBeNull();
    }
  });

  it('finds search words where they start a word, not inside another', () => {
    expect(startsAWord('merge', ['Application to merge Spring Gardens'])).toBe(true);
    expect(startsAWord('MERGE', ['The merger of two practices'])).toBe(true);
    expect(startsAWord('merge', ['Urgent and emergency care winter plan'])).toBe(false);
    expect(startsAWord('crisis café', ['Mental health crisis café in Hereford'])).toBe(true);
    expect(startsAWord('café', ['(café)'])).toBe(true);
    expect(startsAWord('a.b', ['axb'])).toBe(false);
    expect(startsAWord(undefined, ['anything'])).toBe(true);
  });

  it('pages through results, twenty at a time, never past the last page', () => {
    expect(pageWindow(0, 1)).toEqual({ page: 1, pages: 1, start: 0, end: 0 });
    expect(pageWindow(11, 1)).toEqual({ page: 1, pages: 1, start: 0, end: 11 });
    expect(pageWindow(45, 2)).toEqual({ page: 2, pages: 3, start: 20, end: 40 });
    expect(pageWindow(45, 3)).toEqual({ page: 3, pages: 3, start: 40, end: 45 });
    expect(pageWindow(45, 9)).toEqual({ page: 3, pages: 3, start: 40, end: 45 });
    expect(pageWindow(45, Number.NaN)).toEqual({ page: 1, pages: 3, start: 0, end: 20 });
    expect(pageWindow(45, -2)).toEqual({ page: 1, pages: 3, start: 0, end: 20 });
    expect(pageWindow(45, 1.5)).toEqual({ page: 1, pages: 3, start: 0, end: 20 });
  });
});

describe('files, money and Markdown on the public site', () => {
  it('writes file sizes and money as people read them', () => {
    expect(fileSize(1)).toBe('1 byte');
    expect(fileSize(663)).toBe('663 bytes');
    expect(fileSize(1333)).toBe('1 KB');
    expect(fileSize(250_000)).toBe('244 KB');
    expect(fileSize(1_500_000)).toBe('1.4 MB');
    expect(poundsAndPence(45)).toBe('£45');
    expect(poundsAndPence(12.5)).toBe('£12.50');
    expect(poundsAndPence(1250)).toBe('£1,250');
  });

  it('renders Markdown without raw HTML or script links, headings moved under the page', () => {
    const html = renderMarkdown('# Minutes\n\n## 1. Welcome\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) and https://www.england.nhs.uk', 2);
    expect(html).toContain('<h3>Minutes</h3>');
    expect(html).toContain('<h4>1. Welcome</h4>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('<a href="https://www.england.nhs.uk">');
    expect(renderMarkdown('###### Deep', 3)).toContain('<h6>Deep</h6>');
  });

  it('drops a paper’s first heading when it only repeats the title', () => {
    expect(withoutTitle('# Board assurance framework\n\nText', 'Board assurance framework')).toBe('Text');
    expect(withoutTitle('# Something else\n\nText', 'Board assurance framework')).toBe('# Something else\n\nText');
    expect(withoutTitle('Text only', 'Board assurance framework')).toBe('Text only');
  });
});
