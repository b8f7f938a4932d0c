/**
 * One change log for every module: who changed what in an ICS, and when. Written in the same
 * transaction as the change itself, so the log never claims a change that did not happen.
 */
import type { Queryable } from './db/database.js';

export interface Change {
  icsCode: string;
  module: string;
  actor: string;
  summary: string;
  detail?: Record<string, unknown>;
}

export async function recordChange(db: Queryable, change: Change): Promise<void> {
  await db.query('INSERT INTO change_log (ics_code, module, actor, summary, detail) VALUES ($1, $2, $3, $4, $5)', [
    change.icsCode,
    change.module,
    change.actor,
    change.summary,
    JSON.stringify(change.detail ?? {}),
  ]);
}

export async function recentChanges(db: Queryable, icsCode: string, options: { module?: string; limit?: number } = {}): Promise<{ at: Date; module: string; actor: string; summary: string }[]> {
  const params: unknown[] = [icsCode, options.limit ?? 20];
  const byModule = options.module ? `AND module = $${params.push(options.module)}` : '';
  const { rows } = await db.query<{ at: Date; module: string; actor: string; summary: string }>(
    `SELECT at, module, actor, summary FROM change_log WHERE ics_code = $1 ${byModule} ORDER BY id DESC LIMIT $2`,
    params,
  );
  return rows;
}
