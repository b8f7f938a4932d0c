/**
 * The checks governance runs against the structure module: is a meeting quorate, does an
 * attending member have a declared interest in an organisation an item concerns, and does
 * the body hold delegated authority for the decision it is taking. Pure functions, so the
 * pages, the API and the commands all ask the same question the same way.
 */
import { type Body, type IcsStructure, isCurrent } from '../structure/model.js';
import type { AgendaItem, Attendance, Declaration, Interest } from './model.js';

export interface QuorumResult {
  required: number | null;
  present: number;
  met: boolean;
  /** Names of the voting members counted. */
  counted: string[];
}

/** Present voting members whose term covers the meeting date, against the body's quorum. */
export function quorum(s: IcsStructure, body: Body, attendance: Attendance[], onDate: string): QuorumResult {
  const present = new Set(attendance.filter((a) => a.status === 'present').map((a) => a.personId));
  const voting = s.memberships.filter((m) => m.bodyId === body.id && m.voting && isCurrent(m, onDate) && present.has(m.personId));
  const counted = [...new Set(voting.map((m) => m.personId))].map((id) => s.people.get(id)?.name ?? id);
  const required = body.quorum;
  return { required, present: counted.length, met: required === null ? counted.length > 0 : counted.length >= required, counted };
}

/** Current voting members of the body on a date (who may vote). */
export function votingMembers(s: IcsStructure, body: Body, onDate: string): Set<string> {
  return new Set(s.memberships.filter((m) => m.bodyId === body.id && m.voting && isCurrent(m, onDate)).map((m) => m.personId));
}

export interface ConflictFlag {
  agendaItemId: string;
  itemTitle: string;
  personId: string;
  personName: string;
  interestId: string;
  interest: string;
  organisations: { code: string; name: string }[];
  /** How it was handled at the meeting, once a declaration is recorded. */
  handling: Declaration['handling'] | null;
}

/**
 * Flags, before the meeting, each expected attendee (a current member, or anyone recorded as
 * attending) with an interest current on the meeting date in an organisation an item concerns.
 */
export function conflicts(
  s: IcsStructure,
  body: Body,
  items: AgendaItem[],
  attendance: Attendance[],
  interests: Interest[],
  declarations: Declaration[],
  onDate: string,
): ConflictFlag[] {
  const expected = new Set([
    ...s.memberships.filter((m) => m.bodyId === body.id && isCurrent(m, onDate)).map((m) => m.personId),
    ...attendance.filter((a) => a.status === 'present' || a.status === 'in_attendance').map((a) => a.personId),
  ]);
  const absent = new Set(attendance.filter((a) => a.status === 'apologies' || a.status === 'absent').map((a) => a.personId));
  const flags: ConflictFlag[] = [];
  for (const item of items) {
    if (item.concerns.length === 0) continue;
    for (const interest of interests) {
      if (!expected.has(interest.personId) || absent.has(interest.personId)) continue;
      if (!isCurrent(interest, onDate)) continue;
      const shared = interest.orgCodes.filter((c) => item.concerns.includes(c));
      if (shared.length === 0) continue;
      const declared = declarations.find((d) => d.agendaItemId === item.id && d.personId === interest.personId);
      flags.push({
        agendaItemId: item.id,
        itemTitle: item.title,
        personId: interest.personId,
        personName: s.people.get(interest.personId)?.name ?? interest.personId,
        interestId: interest.id,
        interest: interest.description,
        organisations: shared.map((code) => ({ code, name: s.organisations.get(code)?.name ?? code })),
        handling: declared?.handling ?? null,
      });
    }
  }
  return flags;
}

export interface AuthorityResult {
  ok: boolean;
  /** Plain words for the record: why the body may decide, or who holds the authority instead. */
  note: string;
  holders: { kind: 'body' | 'person'; id: string; name: string }[];
}

/**
 * May this body take a decision exercising this function? The ICB board may, as the
 * accountable body; otherwise the body needs a delegation of the function current on the date.
 */
export function authority(s: IcsStructure, body: Body, functionId: string | null, onDate: string): AuthorityResult {
  if (!functionId) return { ok: true, note: 'The item exercises no function in the functions and decisions map.', holders: [] };
  const fn = s.functions.find((f) => f.id === functionId);
  if (!fn) return { ok: false, note: `The function ${functionId} is not in the functions and decisions map.`, holders: [] };
  const board = s.bodies.find((b) => b.kind === 'icb_board');
  const delegations = s.delegations.filter((d) => d.functionId === fn.id && isCurrent(d, onDate));
  const holders = [
    ...(board ? [{ kind: 'body' as const, id: board.id, name: board.name }] : []),
    ...delegations.map((d) =>
      d.toBodyId
        ? { kind: 'body' as const, id: d.toBodyId, name: s.bodies.find((b) => b.id === d.toBodyId)?.name ?? d.toBodyId }
        : { kind: 'person' as const, id: d.toPersonId ?? '', name: s.people.get(d.toPersonId ?? '')?.name ?? d.toPersonId ?? '' },
    ),
  ];
  if (body.kind === 'icb_board') return { ok: true, note: `${body.name} is accountable for ${fn.name}.`, holders };
  if (delegations.some((d) => d.toBodyId === body.id)) return { ok: true, note: `${fn.name} is delegated to ${body.name}.`, holders };
  const others = holders.filter((h) => h.id !== body.id).map((h) => h.name);
  return {
    ok: false,
    note: `${body.name} has no delegated authority for ${fn.name}; it is held by ${others.join(' and ') || 'nobody'}.`,
    holders,
  };
}
