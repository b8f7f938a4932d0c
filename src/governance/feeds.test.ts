import { describe, expect, it } from 'vitest';
import { type CalendarMeeting, type FeedDecision, decisionsFeed, escapeText, escapeXml, foldLine, icalDateTime, meetingsCalendar } from './feeds.js';

const now = new Date('2026-11-23T08:15:00.000Z');
const options = { icsCode: 'QGH', icsName: 'Herefordshire and Worcestershire', baseUrl: 'https://openics.example', now };

const board: CalendarMeeting = {
  id: 'QGH-mtg-1',
  title: 'Board meeting in public; November',
  bodyName: 'NHS Herefordshire and Worcestershire ICB board',
  startsAt: new Date('2026-12-03T10:00:00.000Z'),
  endsAt: new Date('2026-12-03T12:30:00.000Z'),
  venue: 'Kindred Centre, Worcester',
  onlineUrl: 'https://teams.example/board',
  status: 'scheduled',
};
const cancelled: CalendarMeeting = {
  id: 'QGH-mtg-2',
  title: 'Audit\\Risk',
  bodyName: 'Audit and Risk Committee',
  startsAt: new Date('2026-06-18T09:00:00.000Z'),
  endsAt: null,
  venue: null,
  onlineUrl: 'https://teams.example/audit',
  status: 'cancelled',
};

describe('iCalendar feed of meetings', () => {
  it('escapes TEXT values: backslashes, semicolons, commas and newlines', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf')).toBe('a\\\\b\\;c\\,d\\ne\\nf');
  });

  it('folds lines at 75 octets without splitting a character', () => {
    const long = `SUMMARY:${'x'.repeat(100)}`;
    const folded = foldLine(long);
    expect(folded).toBe(`SUMMARY:${'x'.repeat(67)}\r\n ${'x'.repeat(33)}`);
    expect(folded.split('\r\n').map((l) => Buffer.byteLength(l))).toEqual([75, 34]);
    expect(foldLine('SHORT:ok')).toBe('SHORT:ok');
    expect(foldLine(`X:${'y'.repeat(73)}`)).toBe(`X:${'y'.repeat(73)}`); // exactly 75 octets: not folded
    // 'é' is two octets: the fold falls before it rather than through it.
    const accented = foldLine(`X:${'a'.repeat(72)}é${'b'.repeat(80)}`);
    const lines = accented.split('\r\n');
    expect(lines[0]).toBe(`X:${'a'.repeat(72)}`);
    expect(lines[1]).toBe(` é${'b'.repeat(72)}`);
    expect(lines[2]).toBe(` ${'b'.repeat(8)}`);
    expect(lines.every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
    expect(lines.map((l, i) => (i === 0 ? l : l.slice(1))).join('')).toBe(`X:${'a'.repeat(72)}é${'b'.repeat(80)}`);
  });

  it('writes UTC date-times in the basic format', () => {
    expect(icalDateTime(new Date('2026-05-14T09:00:00.000Z'))).toBe('20260514T090000Z');
  });

  it('builds a calendar with one event per meeting, CRLF line ends, folded and escaped', () => {
    const text = meetingsCalendar([board, cancelled], options);
    expect(text).toBe(
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//OpenICS//Governance meetings//EN',
        'CALSCALE:GREGORIAN',
        'METHOD:PUBLISH',
        'X-WR-CALNAME:Herefordshire and Worcestershire: meetings in public',
        'BEGIN:VEVENT',
        'UID:QGH-mtg-1@openics',
        'DTSTAMP:20261123T081500Z',
        'DTSTART:20261203T100000Z',
        'DTEND:20261203T123000Z',
        'SUMMARY:Board meeting in public\\; November',
        'DESCRIPTION:A meeting of NHS Herefordshire and Worcestershire ICB board.',
        'LOCATION:Kindred Centre\\, Worcester (online: https://teams.example/board)',
        'URL:https://openics.example/public/QGH/meetings/QGH-mtg-1',
        'STATUS:CONFIRMED',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:QGH-mtg-2@openics',
        'DTSTAMP:20261123T081500Z',
        'DTSTART:20260618T090000Z',
        'SUMMARY:Cancelled: Audit\\\\Risk',
        'DESCRIPTION:A meeting of Audit and Risk Committee.',
        'LOCATION:https://teams.example/audit',
        'URL:https://openics.example/public/QGH/meetings/QGH-mtg-2',
        'STATUS:CANCELLED',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n'),
    );
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('folds a long summary inside the calendar', () => {
    const text = meetingsCalendar([{ ...board, title: 'Extraordinary meeting of the board to consider the system financial recovery plan, 2026/27' }], options);
    expect(text).toContain(
      'SUMMARY:Extraordinary meeting of the board to consider the system financial\r\n  recovery plan\\, 2026/27\r\n',
    );
    expect(text.split('\r\n').every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
  });

  it('is a valid empty calendar when there are no meetings', () => {
    expect(meetingsCalendar([], options)).toBe(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenICS//Governance meetings//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Herefordshire and Worcestershire: meetings in public\r\nEND:VCALENDAR\r\n',
    );
  });
});

describe('Atom feed of decisions', () => {
  const decision: FeedDecision = {
    id: 'QGH-dec-1',
    title: 'Stroke unit <at> Worcester & Hereford',
    text: 'The board agreed "Option B".',
    outcome: 'approved',
    decidedAt: new Date('2026-10-08T10:30:00.000Z'),
    bodyName: 'ICB board',
    meetingTitle: "Board's October meeting",
    topic: 'Stroke',
  };
  const older: FeedDecision = { ...decision, id: 'QGH-dec-0', title: 'Earlier', text: 'Deferred.', outcome: 'deferred', decidedAt: new Date('2026-09-10T09:00:00.000Z'), topic: null };

  it('escapes XML and drops characters XML cannot carry', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>\u0001\u0008ok\ttab`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;ok\ttab');
  });

  it('builds a feed with one entry per decision, updated at the latest decision', () => {
    expect(decisionsFeed([decision, older], options)).toBe(
      [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        '  <id>urn:openics:decisions:QGH</id>',
        '  <title>Herefordshire and Worcestershire: decisions</title>',
        '  <updated>2026-10-08T10:30:00.000Z</updated>',
        '  <link rel="self" type="application/atom+xml" href="https://openics.example/public/QGH/decisions.atom"/>',
        '  <link rel="alternate" type="text/html" href="https://openics.example/public/QGH/decisions"/>',
        '  <author><name>Herefordshire and Worcestershire</name></author>',
        '  <entry>',
        '    <id>urn:openics:decision:QGH-dec-1</id>',
        '    <title>Stroke unit &lt;at&gt; Worcester &amp; Hereford</title>',
        '    <updated>2026-10-08T10:30:00.000Z</updated>',
        '    <link rel="alternate" type="text/html" href="https://openics.example/public/QGH/decisions/QGH-dec-1"/>',
        '    <category term="Stroke"/>',
        '    <summary>Approved by ICB board at Board&apos;s October meeting. The board agreed &quot;Option B&quot;.</summary>',
        '  </entry>',
        '  <entry>',
        '    <id>urn:openics:decision:QGH-dec-0</id>',
        '    <title>Earlier</title>',
        '    <updated>2026-09-10T09:00:00.000Z</updated>',
        '    <link rel="alternate" type="text/html" href="https://openics.example/public/QGH/decisions/QGH-dec-0"/>',
        '    <summary>Deferred by ICB board at Board&apos;s October meeting. Deferred.</summary>',
        '  </entry>',
        '</feed>',
        '',
      ].join('\n'),
    );
  });

  it('is updated now when there are no decisions yet', () => {
    expect(decisionsFeed([], options)).toContain('<updated>2026-11-23T08:15:00.000Z</updated>');
    expect(decisionsFeed([], options)).not.toContain('<entry>');
  });
});
