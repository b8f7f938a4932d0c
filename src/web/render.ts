/**
 * Server-rendered pages in the NHS design system: Nunjucks with the nhsuk-frontend macros,
 * which is how the design system itself is published. Each module keeps its templates in its
 * own `views/` folder; this file only knows the shared layout and the filters.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { pageLocals } from './request-locals.js';

const require = createRequire(import.meta.url);
/** node_modules/nhsuk-frontend/dist: templates are imported as "nhsuk/components/…". */
export const NHSUK_DIST = path.resolve(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');
export const NHSUK_ASSETS = path.join(NHSUK_DIST, 'nhsuk');
export const WEB_STATIC = fileURLToPath(new URL('./static', import.meta.url));
const WEB_VIEWS = fileURLToPath(new URL('./views', import.meta.url));

/** The versioned file names nhsuk-frontend ships (nhsuk-frontend-10.x.y.min.css / .js). */
export const NHSUK_FILES = (() => {
  const files = fs.readdirSync(NHSUK_ASSETS);
  const css = files.find((f) => /^nhsuk-frontend-\d+\.\d+\.\d+\.min\.css$/.test(f)) ?? 'nhsuk-frontend.min.css';
  const js = files.find((f) => /^nhsuk-frontend-\d+\.\d+\.\d+\.min\.js$/.test(f)) ?? 'nhsuk-frontend.min.js';
  return { css, js };
})();

export type Renderer = (template: string, context: Record<string, unknown>) => string;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2025-04-01" → "1 April 2025", the NHS style for dates. */
export function formatDate(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const iso = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return iso;
  return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1] ?? ''} ${match[1]}`;
}

/** A moment as people in England read it: "1 April 2025 at 2:05pm", in UK time. */
export function formatDateTime(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const d = value instanceof Date ? value : new Date(typeof value === 'string' || typeof value === 'number' ? value : Number.NaN);
  if (Number.isNaN(d.getTime())) return typeof value === 'string' ? value : '';
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', hourCycle: 'h12' }).formatToParts(d);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')} ${part('month')} ${part('year')} at ${part('hour')}:${part('minute')}${part('dayPeriod').toLowerCase().replaceAll(' ', '')}`;
}

/** "9434765919" → "943 476 5919", the NHS's way of writing an NHS number; anything else as it is. */
export function formatNhsNumber(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const text = String(value);
  return /^\d{10}$/.test(text) ? `${text.slice(0, 3)} ${text.slice(3, 6)} ${text.slice(6)}` : text;
}

export function formatNumber(value: unknown, digits = 0): string {
  if (value === null || value === undefined || value === '') return '';
  return Number(value).toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** £1,234,567, or £1.2m when `short`. */
export function formatPounds(value: unknown, short = false): string {
  if (value === null || value === undefined || value === '') return '';
  const n = Number(value);
  if (short && Math.abs(n) >= 1_000_000) return `£${(n / 1_000_000).toLocaleString('en-GB', { maximumFractionDigits: 1 })}m`;
  return `£${n.toLocaleString('en-GB', { maximumFractionDigits: 0 })}`;
}

export function createRenderer(moduleViewDirs: string[]): Renderer {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([...moduleViewDirs, WEB_VIEWS, NHSUK_DIST], { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  env.addFilter('date', formatDate);
  env.addFilter('datetime', formatDateTime);
  env.addFilter('number', formatNumber);
  env.addFilter('nhsNumber', formatNhsNumber);
  env.addFilter('pounds', formatPounds);
  env.addGlobal('nhsukFiles', NHSUK_FILES);
  // `pageRequest`: who is signed in, the forms' CSRF token, the CSP nonce (request-locals.ts).
  return (template, context) => env.render(template, { pageRequest: pageLocals(), ...context });
}
