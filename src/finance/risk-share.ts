/**
 * A risk-share agreement expressed as rules, applied to the system position, as pure functions.
 *
 *   1. Each partner keeps its own variance (forecast against plan) up to a limit, if the agreement
 *      sets one (retain_own_variance).
 *   2. What is left of every partner's variance goes into one pool.
 *   3. A net overspend in the pool is shared by the overspend shares; a net underspend by the
 *      underspend shares. Shares are to the penny.
 *   4. A partner's share of a net overspend may be capped. What a cap holds back falls on the
 *      other partners in proportion to their shares; if every partner is capped, on the
 *      residual bearer (normally the ICB).
 *
 * Money is conserved: what partners receive and pay under the agreement adds up to zero.
 */
import type { FieldProblem } from '../core/errors.js';
import { formatPounds } from '../web/render.js';
import { allocateToPenny } from './allocation.js';
import type { RiskShareAgreement, RiskShareRule } from './model.js';

export interface Partner {
  orgCode: string;
  name: string;
  /** Planned surplus, pence. */
  plan: number;
  /** Forecast surplus, pence. */
  forecast: number;
}

export interface PartnerShare {
  orgCode: string;
  name: string;
  plan: number;
  forecast: number;
  /** Forecast − plan: negative is an overspend. */
  variance: number;
  /** The part of its own variance the partner keeps. */
  retained: number;
  /** Its share of the pool (negative: it bears part of an overspend). */
  poolShare: number;
  capped: boolean;
  /** The position after the agreement: plan + retained + share of the pool. */
  after: number;
  /** What the agreement moves to (positive) or from (negative) the partner: after − forecast. */
  transfer: number;
}

export interface RiskShareResult {
  pool: number;
  direction: 'overspend' | 'underspend' | 'none';
  partners: PartnerShare[];
  /** What no partner could bear (all capped), borne by the residual bearer. */
  residual: number;
  residualOrgCode: string;
  /** Each step in plain English, in order. */
  steps: string[];
}

const money = (pence: number): string => formatPounds(Math.abs(pence) / 100);
const pct = (share: number): string => `${(share * 100).toLocaleString('en-GB', { maximumFractionDigits: 2 })}%`;

/** The rules in words, for people to read before they see the numbers. */
export function describeRule(rule: RiskShareRule, names: Map<string, string>): string {
  const who = rule.orgCode ? (names.get(rule.orgCode) ?? rule.orgCode) : 'Each partner';
  switch (rule.kind) {
    case 'retain_own_variance':
      return `Each partner keeps its own overspend or underspend up to ${money(rule.value)}; anything beyond goes into the shared pool.`;
    case 'share_overspend':
      return `${who} bears ${pct(rule.value)} of a net overspend in the pool.`;
    case 'share_underspend':
      return `${who} receives ${pct(rule.value)} of a net underspend in the pool.`;
    case 'cap':
      return `${who}’s share of a net overspend is capped at ${money(rule.value)}; the rest falls on the others in proportion to their shares.`;
  }
}

/** What is wrong with a set of rules, by rule position. */
export function ruleProblems(rules: RiskShareRule[], partners: Set<string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const retains = rules.filter((r) => r.kind === 'retain_own_variance');
  if (retains.length > 1) problems.push({ field: 'rules', message: 'Give at most one limit on the variance each partner keeps' });
  rules.forEach((r, i) => {
    if (r.kind !== 'retain_own_variance' && (!r.orgCode || !partners.has(r.orgCode))) problems.push({ field: `rules.${i}.orgCode`, message: `${r.orgCode ?? 'The partner'} is not a partner with a plan in this year` });
    if (!(r.value >= 0)) problems.push({ field: `rules.${i}.value`, message: 'The value must be zero or more' });
    if ((r.kind === 'share_overspend' || r.kind === 'share_underspend') && r.value > 1) problems.push({ field: `rules.${i}.value`, message: 'A share must be between 0% and 100%' });
  });
  for (const kind of ['share_overspend', 'share_underspend'] as const) {
    const shares = rules.filter((r) => r.kind === kind);
    if (shares.length === 0) continue;
    const total = shares.reduce((a, r) => a + r.value, 0);
    if (Math.abs(total - 1) > 1e-6) problems.push({ field: 'rules', message: `The shares of a net ${kind === 'share_overspend' ? 'overspend' : 'underspend'} add up to ${pct(total)}; they must add up to 100%` });
    const seen = new Set<string>();
    for (const r of shares) {
      if (r.orgCode && seen.has(r.orgCode)) problems.push({ field: 'rules', message: `A partner has two shares of a net ${kind === 'share_overspend' ? 'overspend' : 'underspend'}` });
      if (r.orgCode) seen.add(r.orgCode);
    }
  }
  return problems;
}

/** Shares a net overspend (negative pool) by shares, holding each capped partner to its cap. */
function shareWithCaps(pool: number, shares: Map<string, number>, caps: Map<string, number>): { parts: Map<string, number>; residual: number; capped: Set<string> } {
  const parts = new Map<string, number>();
  const capped = new Set<string>();
  let remaining = pool;
  let open = [...shares.keys()].filter((k) => (shares.get(k) ?? 0) > 0);
  for (;;) {
    if (open.length === 0) return { parts, residual: remaining, capped };
    const split = allocateToPenny(remaining, open.map((k) => shares.get(k) ?? 0));
    const over = open.filter((k, i) => caps.has(k) && Math.abs(split[i] ?? 0) > (caps.get(k) ?? 0));
    if (over.length === 0) {
      open.forEach((k, i) => parts.set(k, (parts.get(k) ?? 0) + (split[i] ?? 0)));
      return { parts, residual: 0, capped };
    }
    for (const k of over) {
      const cap = caps.get(k) ?? 0;
      const part = pool < 0 ? -cap : cap;
      parts.set(k, part);
      capped.add(k);
      remaining -= part;
    }
    open = open.filter((k) => !over.includes(k));
  }
}

export function applyRiskShare(agreement: Pick<RiskShareAgreement, 'rules' | 'residualOrgCode'>, partners: Partner[], names: Map<string, string> = new Map()): RiskShareResult {
  const limitRule = agreement.rules.find((r) => r.kind === 'retain_own_variance');
  const limit = limitRule ? Math.round(limitRule.value) : null;
  const steps: string[] = [];
  const rows = partners.map((p) => {
    const variance = p.forecast - p.plan;
    const retained = limit === null ? 0 : Math.max(-limit, Math.min(limit, variance));
    return { ...p, variance, retained };
  });
  const totalVariance = rows.reduce((a, r) => a + r.variance, 0);
  steps.push(`The partners forecast ${totalVariance < 0 ? 'an overspend' : totalVariance > 0 ? 'an underspend' : 'no variance'} of ${money(totalVariance)} against their plans, together.`);
  if (limit !== null) steps.push(`Each partner keeps its own variance up to ${money(limit)}: ${money(rows.reduce((a, r) => a + Math.abs(r.retained), 0))} is kept in all.`);
  const pool = rows.reduce((a, r) => a + (r.variance - r.retained), 0);
  const direction: RiskShareResult['direction'] = pool < 0 ? 'overspend' : pool > 0 ? 'underspend' : 'none';
  const kind = direction === 'overspend' ? 'share_overspend' : 'share_underspend';
  const shares = new Map(agreement.rules.filter((r) => r.kind === kind && r.orgCode).map((r) => [r.orgCode ?? '', r.value]));
  const caps = new Map(direction === 'overspend' ? agreement.rules.filter((r) => r.kind === 'cap' && r.orgCode).map((r) => [r.orgCode ?? '', Math.round(r.value)]) : []);
  let parts = new Map<string, number>();
  let residual = 0;
  let capped = new Set<string>();
  if (direction === 'none') {
    steps.push('Nothing is left to share.');
  } else if (shares.size === 0) {
    residual = pool;
    steps.push(`The agreement has no shares of a net ${direction}, so the ${money(pool)} in the pool stays with ${names.get(agreement.residualOrgCode) ?? agreement.residualOrgCode}.`);
  } else {
    ({ parts, residual, capped } = shareWithCaps(pool, shares, caps));
    steps.push(`The pool holds a net ${direction} of ${money(pool)}, shared by the agreed shares of a net ${direction}.`);
    for (const k of capped) steps.push(`${names.get(k) ?? k} reaches its cap of ${money(caps.get(k) ?? 0)}; the rest falls on the others in proportion to their shares.`);
    if (residual !== 0) steps.push(`Every partner with a share is capped: ${money(residual)} falls on ${names.get(agreement.residualOrgCode) ?? agreement.residualOrgCode}.`);
  }
  if (residual !== 0) parts.set(agreement.residualOrgCode, (parts.get(agreement.residualOrgCode) ?? 0) + residual);
  const result: PartnerShare[] = rows.map((r) => {
    const poolShare = parts.get(r.orgCode) ?? 0;
    const after = r.plan + r.retained + poolShare;
    return { orgCode: r.orgCode, name: r.name, plan: r.plan, forecast: r.forecast, variance: r.variance, retained: r.retained, poolShare, capped: capped.has(r.orgCode), after, transfer: after - r.forecast };
  });
  // A residual bearer with no plan of its own still appears, so what moves adds up to zero.
  if (residual !== 0 && !rows.some((r) => r.orgCode === agreement.residualOrgCode)) {
    const name = names.get(agreement.residualOrgCode) ?? agreement.residualOrgCode;
    result.push({ orgCode: agreement.residualOrgCode, name, plan: 0, forecast: 0, variance: 0, retained: 0, poolShare: residual, capped: false, after: residual, transfer: residual });
  }
  return { pool, direction, partners: result, residual, residualOrgCode: agreement.residualOrgCode, steps };
}
