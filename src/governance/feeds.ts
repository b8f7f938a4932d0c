/**
 * Public feeds, so people can follow governance without visiting the site: an iCalendar
 * (RFC 5545) calendar of meetings to subscribe to, and an Atom 1.0 (RFC 4287) feed of decisions.
 * The builders are pure functions of what the public may see; the two routes (no sign-in) feed
 * them from the repository with the public audience.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { NotFoundError } from '../core/errors.js';
import { MEETING_STATUSES, OUTCOMES, type Meeting } from './model.js';
import { type DecisionLogEntry, listMeetings, searchDecisions } from './repository.js';

// ---- iCalendar ---------------------------------------------------------------------------------

export interface CalendarMeeting extends Pick<Meeting, 'id' | 'title' | 'startsAt' | 'endsAt' | 'venue' | 'onlineUrl' | 'status'> {
  bodyName: string;
}

export interface CalendarOptions {
  icsCode: string;
  /** The ICS's name, for the calendar's name. */
  icsName: string;
  /** Absolute origin for links, e.g. https://openics.example.org (no trailing slash). */
  baseUrl: string;
  /** When the calendar was generated (DTSTAMP). */
  now: Date;
}

/** TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines. */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/**
 * Folds a content line so no line is longer than 75 octets (RFC 5545 3.1): continuation lines
 * start with one space, and a UTF-8 character is never split.
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  let limit = 75;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = 74; // the leading space of a continuation line counts
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** A UTC date-time in the basic form iCalendar uses: 20260514T090000Z. */
export function icalDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function location(m: CalendarMeeting): string | null {
  if (m.venue && m.onlineUrl) return `${m.venue} (online: ${m.onlineUrl})`;
  return m.venue ?? m.onlineUrl;
}

/** The calendar of meetings, CRLF line ends throughout. */
export function meetingsCalendar(meetings: CalendarMeeting[], options: CalendarOptions): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//OpenICS//Governance meetings//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(`${options.icsName}: meetings in public`)}`,
  ];
  for (const m of meetings) {
    const where = location(m);
    lines.push(
      'BEGIN:VEVENT',
      `UID:${escapeText(`${m.id}@openics`)}`,
      `DTSTAMP:${icalDateTime(options.now)}`,
      `DTSTART:${icalDateTime(m.startsAt)}`,
      ...(m.endsAt ? [`DTEND:${icalDateTime(m.endsAt)}`] : []),
      `SUMMARY:${escapeText(m.status === 'cancelled' ? `${MEETING_STATUSES.cancelled}: ${m.title}` : m.title)}`,
      `DESCRIPTION:${escapeText(`A meeting of ${m.bodyName}.`)}`,
      ...(where ? [`LOCATION:${escapeText(where)}`] : []),
      `URL:${options.baseUrl}/public/${encodeURIComponent(options.icsCode)}/meetings/${encodeURIComponent(m.id)}`,
      `STATUS:${m.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

// ---- Atom ---------------------------------------------------------------------------------------

export type FeedDecision = Pick<DecisionLogEntry, 'id' | 'title' | 'text' | 'outcome' | 'decidedAt' | 'bodyName' | 'meetingTitle' | 'topic'>;

export interface FeedOptions {
  icsCode: string;
  icsName: string;
  baseUrl: string;
  /** Used for the feed's updated time when there are no decisions. */
  now: Date;
}

/** Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids. */
export function escapeXml(value: string): string {
  return value
    // eslint-disable-next-line no-control-regex -- tab, LF and CR are exactly the control characters XML allows
    .replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The decisions feed, newest first as given. */
export function decisionsFeed(decisions: FeedDecision[], options: FeedOptions): string {
  const base = `${options.baseUrl}/public/${encodeURIComponent(options.icsCode)}`;
  const updated = decisions.reduce<Date | null>((latest, d) => (latest === null || d.decidedAt > latest ? d.decidedAt : latest), null) ?? options.now;
  const x = escapeXml;
  const entries = decisions.map((d) =>
    [
      '  <entry>',
      `    <id>urn:openics:decision:${x(d.id)}</id>`,
      `    <title>${x(d.title)}</title>`,
      `    <updated>${d.decidedAt.toISOString()}</updated>`,
      `    <link rel="alternate" type="text/html" href="${x(`${base}/decisions/${encodeURIComponent(d.id)}`)}"/>`,
      ...(d.topic ? [`    <category term="${x(d.topic)}"/>`] : []),
      `    <summary>${x(`${OUTCOMES[d.outcome]} by ${d.bodyName} at ${d.meetingTitle}. ${d.text}`)}</summary>`,
      '  </entry>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>urn:openics:decisions:${x(options.icsCode)}</id>`,
    `  <title>${x(`${options.icsName}: decisions`)}</title>`,
    `  <updated>${updated.toISOString()}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${x(`${base}/decisions.atom`)}"/>`,
    `  <link rel="alternate" type="text/html" href="${x(`${base}/decisions`)}"/>`,
    `  <author><name>${x(options.icsName)}</name></author>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}

// ---- routes -------------------------------------------------------------------------------------

/** How many decisions the feed carries, newest first. */
export const FEED_DECISIONS = 100;

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The public feeds: no sign-in, the public audience only. Not part of the JSON API document. */
export async function registerGovernanceFeeds(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const icsNamed = async (code: string): Promise<{ code: string; name: string }> => {
    const { rows } = await ctx.db.query<{ code: string; name: string }>('SELECT code, name FROM ics WHERE code = $1', [code.toUpperCase()]);
    const ics = rows[0];
    if (!ics) throw new NotFoundError(`ICS ${code}`);
    return ics;
  };

  app.get<{ Params: { ics: string } }>('/public/:ics/meetings.ics', { schema: { hide: true } }, async (request, reply) => {
    const ics = await icsNamed(request.params.ics);
    const meetings = await listMeetings(ctx.db, ics.code);
    const body = meetingsCalendar(meetings, { icsCode: ics.code, icsName: ics.name, baseUrl: baseUrlOf(request), now: new Date() });
    return reply
      .type('text/calendar; charset=utf-8')
      .header('content-disposition', `inline; filename="${ics.code}-meetings.ics"`)
      .header('cache-control', 'public, max-age=300')
      .send(body);
  });

  app.get<{ Params: { ics: string } }>('/public/:ics/decisions.atom', { schema: { hide: true } }, async (request, reply) => {
    const ics = await icsNamed(request.params.ics);
    const decisions = (await searchDecisions(ctx.db, ics.code, {}, 'public')).slice(0, FEED_DECISIONS);
    const body = decisionsFeed(decisions, { icsCode: ics.code, icsName: ics.name, baseUrl: baseUrlOf(request), now: new Date() });
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(body);
  });
}
