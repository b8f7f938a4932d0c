/**
 * Unusual access, found in SQL over the audit trail, for the privacy officer to look into:
 *
 *  - break-glass volume: a user who opened more than N residents' records by break-glass (no
 *    legitimate relationship) in one day;
 *  - above the organisation's norm: a user who opened far more residents' records in a day than
 *    is usual in their organisation (more than F times the median user-day of that organisation
 *    over the window, and at least M residents);
 *  - night-time: a user who looked at records M or more times in one night (UK time).
 *
 * Days and hours are UK days and hours (Europe/London). Only successful accesses by signed-in
 * staff count: citizens looking at their own records, feeds and OpenICS itself do not. A check of
 * users reading records of residents who share their surname or address would need the users'
 * own addresses, which OpenICS does not hold; it is left for when it does.
 */
import type { Queryable } from '../../core/db/database.js';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { UnusualAccessConfig } from './config.js';

export type UnusualRule = 'break-glass' | 'above-norm' | 'night';

export interface UnusualAccess {
  rule: UnusualRule;
  agent: string;
  organisation: string | null;
  role: string | null;
  /** The UK day, YYYY-MM-DD (for night-time: the day the night began... as the clock shows it). */
  day: string;
  /** Residents opened (break-glass, above-norm) or accesses made (night). */
  count: number;
  /** The organisation's usual residents per user per day (above-norm). */
  norm?: number;
}

export interface DailyAccesses {
  agent: string;
  organisation: string | null;
  day: string;
  residents: number;
}

export interface Window {
  /** First UK day, YYYY-MM-DD. */
  from: string;
  /** Last UK day, YYYY-MM-DD (inclusive). */
  to: string;
}

const LONDON = `'Europe/London'`;
const STAFF_SUCCESS = `e.agent_kind = 'user' AND e.outcome = 'success' AND e.agent_role IS DISTINCT FROM 'citizen'`;
/** The window as instants: from the start of the first UK day to the end of the last. */
const IN_WINDOW = `e.recorded >= ($1::date::timestamp AT TIME ZONE ${LONDON}) AND e.recorded < (($2::date + 1)::timestamp AT TIME ZONE ${LONDON})`;
const DAY = `to_char(e.recorded AT TIME ZONE ${LONDON}, 'YYYY-MM-DD')`;

/** Distinct residents each staff user opened on each UK day of the window. */
export async function dailyAccesses(db: Queryable, window: Window): Promise<DailyAccesses[]> {
  const rows = await db.query<{ agent: string; organisation: string | null; day: string; residents: number }>(
    `SELECT e.agent, max(e.agent_org) AS organisation, ${DAY} AS day, count(DISTINCT p.id) AS residents
       FROM access_audit_event e CROSS JOIN LATERAL unnest(e.patients) AS p(id)
      WHERE ${IN_WINDOW} AND ${STAFF_SUCCESS}
      GROUP BY e.agent, ${DAY}
      ORDER BY day, e.agent`,
    [window.from, window.to],
  );
  return rows.rows;
}

export async function unusualAccess(db: Queryable, window: Window, config: UnusualAccessConfig): Promise<UnusualAccess[]> {
  const params = [window.from, window.to];
  const [breakGlass, aboveNorm, night] = await Promise.all([
    db.query<{ agent: string; organisation: string | null; role: string | null; day: string; count: number }>(
      `SELECT e.agent, max(e.agent_org) AS organisation, max(e.agent_role) AS role, ${DAY} AS day, count(DISTINCT p.id) AS count
         FROM access_audit_event e CROSS JOIN LATERAL unnest(e.patients) AS p(id)
        WHERE ${IN_WINDOW} AND ${STAFF_SUCCESS} AND (e.purpose = 'ETREAT' OR e.action = 'break-glass')
        GROUP BY e.agent, ${DAY}
       HAVING count(DISTINCT p.id) > $3`,
      [...params, config.breakGlassPerDay],
    ),
    db.query<{ agent: string; organisation: string | null; role: string | null; day: string; count: number; norm: number }>(
      `WITH daily AS (
         SELECT e.agent, e.agent_org AS organisation, max(e.agent_role) AS role, ${DAY} AS day, count(DISTINCT p.id) AS count
           FROM access_audit_event e CROSS JOIN LATERAL unnest(e.patients) AS p(id)
          WHERE ${IN_WINDOW} AND ${STAFF_SUCCESS}
          GROUP BY e.agent, e.agent_org, ${DAY}
       ), norm AS (
         SELECT organisation, percentile_cont(0.5) WITHIN GROUP (ORDER BY count) AS norm FROM daily GROUP BY organisation
       )
       SELECT d.agent, d.organisation, d.role, d.day, d.count, n.norm
         FROM daily d JOIN norm n ON n.organisation IS NOT DISTINCT FROM d.organisation
        WHERE d.count >= $3 AND d.count > $4 * n.norm`,
      [...params, config.normMinimum, config.normFactor],
    ),
    db.query<{ agent: string; organisation: string | null; role: string | null; day: string; count: number }>(
      `SELECT e.agent, max(e.agent_org) AS organisation, max(e.agent_role) AS role, ${DAY} AS day, count(*) AS count
         FROM access_audit_event e
        WHERE ${IN_WINDOW} AND ${STAFF_SUCCESS} AND cardinality(e.patients) > 0
          AND ${nightHours(config)}
        GROUP BY e.agent, ${DAY}
       HAVING count(*) >= $3`,
      [...params, config.nightMinimum],
    ),
  ]);
  const found: UnusualAccess[] = [
    ...breakGlass.rows.map((r) => ({ rule: 'break-glass' as const, ...r })),
    ...aboveNorm.rows.map((r) => ({ rule: 'above-norm' as const, ...r, norm: Number(r.norm) })),
    ...night.rows.map((r) => ({ rule: 'night' as const, ...r })),
  ];
  return found.sort((a, b) => b.day.localeCompare(a.day) || b.count - a.count || a.agent.localeCompare(b.agent));
}

function nightHours(config: UnusualAccessConfig): string {
  const hour = `EXTRACT(hour FROM e.recorded AT TIME ZONE ${LONDON})`;
  const start = Math.trunc(config.nightStartHour);
  const end = Math.trunc(config.nightEndHour);
  return start > end ? `(${hour} >= ${start} OR ${hour} < ${end})` : `(${hour} >= ${start} AND ${hour} < ${end})`;
}

/** The latest name each agent was recorded with (the trail keeps ids in its columns, names in the events). */
export async function agentNames(db: Queryable, agents: Iterable<string>): Promise<Map<string, string>> {
  const list = [...new Set(agents)];
  if (list.length === 0) return new Map();
  const rows = await db.query<{ agent: string; event: string }>(
    `SELECT DISTINCT ON (agent) agent, event FROM access_audit_event WHERE agent = ANY($1::text[]) ORDER BY agent, sequence DESC`,
    [list],
  );
  const names = new Map<string, string>();
  for (const row of rows.rows) {
    const event = JSON.parse(row.event) as AuditEvent;
    const display = (event.agent.find((a) => a.requestor) ?? event.agent[0])?.who?.display;
    if (display) names.set(row.agent, display);
  }
  return names;
}
