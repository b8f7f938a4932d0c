/**
 * The functions and decisions map: for each function, where the duty comes from, who is
 * accountable (always the ICB), its budget, and what is delegated to whom, where, with which
 * budget. Shared by the page, the JSON and the CSV export so all three say the same.
 */
import { stringify } from 'csv-stringify/sync';
import { type IcsStructure, isCurrent, today } from './model.js';

export interface DelegationEntry {
  id: string;
  delegateKind: 'body' | 'person';
  delegateId: string;
  delegateName: string;
  placeId: string | null;
  placeName: string | null;
  budgetPounds: number | null;
  decisions: string;
  startDate: string;
  endDate: string | null;
  current: boolean;
}

export interface FunctionEntry {
  id: string;
  name: string;
  description: string | null;
  source: { code: string; name: string };
  accountable: { code: string; name: string };
  budgetPounds: number | null;
  delegatedPounds: number;
  /** Who decides what is not delegated: the ICB board. */
  retainedBy: string;
  delegations: DelegationEntry[];
}

export function functionsMap(s: IcsStructure, asOf: string = today()): FunctionEntry[] {
  const orgName = (code: string): string => s.organisations.get(code)?.name ?? code;
  const board = s.bodies.find((b) => b.kind === 'icb_board');
  return s.functions.map((f) => {
    const delegations = s.delegations
      .filter((d) => d.functionId === f.id)
      .map((d): DelegationEntry => {
        const body = d.toBodyId ? s.bodies.find((b) => b.id === d.toBodyId) : undefined;
        const person = d.toPersonId ? s.people.get(d.toPersonId) : undefined;
        const place = d.placeId ? s.places.find((p) => p.id === d.placeId) : undefined;
        return {
          id: d.id,
          delegateKind: d.toBodyId ? 'body' : 'person',
          delegateId: d.toBodyId ?? d.toPersonId ?? '',
          delegateName: body?.name ?? person?.name ?? d.toBodyId ?? d.toPersonId ?? '',
          placeId: d.placeId,
          placeName: place?.name ?? null,
          budgetPounds: d.budgetPounds,
          decisions: d.decisions,
          startDate: d.startDate,
          endDate: d.endDate,
          current: isCurrent(d, asOf),
        };
      });
    return {
      id: f.id,
      name: f.name,
      description: f.description,
      source: { code: f.sourceOrgCode, name: orgName(f.sourceOrgCode) },
      accountable: { code: f.accountableOrgCode, name: orgName(f.accountableOrgCode) },
      budgetPounds: f.budgetPounds,
      delegatedPounds: delegations.filter((d) => d.current).reduce((sum, d) => sum + (d.budgetPounds ?? 0), 0),
      retainedBy: board?.name ?? orgName(s.icb.code),
      delegations,
    };
  });
}

const CSV_COLUMNS = [
  'function_id',
  'function',
  'duty_from',
  'accountable',
  'function_budget_pounds',
  'delegated_to',
  'delegate_kind',
  'place',
  'delegated_budget_pounds',
  'decisions',
  'start_date',
  'end_date',
  'current',
] as const;

/** One row per delegation; a function with none gets one row saying the board retains it. */
export function functionsMapCsv(entries: FunctionEntry[]): string {
  const rows = entries.flatMap((f) => {
    const base = [f.id, f.name, f.source.name, f.accountable.name, f.budgetPounds ?? ''];
    if (f.delegations.length === 0) return [[...base, `${f.retainedBy} (not delegated)`, 'retained', '', '', '', '', '', 'true']];
    return f.delegations.map((d) => [...base, d.delegateName, d.delegateKind, d.placeName ?? '', d.budgetPounds ?? '', d.decisions, d.startDate, d.endDate ?? '', String(d.current)]);
  });
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS] });
}
