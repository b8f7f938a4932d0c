/**
 * Debian's Chromium, driven by playwright-core, for the browser tests; and axe-core to check
 * each page against WCAG 2.2 AA. When no Chromium is installed, CHROMIUM is undefined and the
 * browser tests are skipped (and reported as skipped), never passed.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { expect } from 'vitest';

const require = createRequire(import.meta.url);

/** The Chromium to drive: OPENICS_CHROMIUM, else Debian's package. */
export const CHROMIUM: string | undefined = [process.env.OPENICS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (candidate): candidate is string => typeof candidate === 'string' && candidate !== '' && fs.existsSync(candidate),
);

export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 375, height: 812 } as const;

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('No Chromium: set OPENICS_CHROMIUM or install the chromium package');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The WCAG 2.2 AA rule sets of axe-core. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] as const;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; html: string; failureSummary?: string }[];
}

const AXE_SCRIPT = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');
const AXE_SOURCE = fs.readFileSync(AXE_SCRIPT, 'utf8');

const violationsSeen = new WeakMap<Page, string[]>();

/**
 * The Content Security Policy violations Chromium has reported on this page so far (it reports
 * each as a console error), recorded from the first call on. Empty when the pages and the
 * policy agree.
 */
export function cspViolations(page: Page): string[] {
  let seen = violationsSeen.get(page);
  if (!seen) {
    const list: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) list.push(`${page.url()}: ${message.text()}`);
    });
    violationsSeen.set(page, list);
    seen = list;
  }
  return seen;
}

const lastViewport = new WeakMap<Page, string>();

/**
 * Lets the page settle after its window was resized: the NHS header moves navigation items into
 * its "More" menu in a debounced resize handler, and axe must not catch it half-way (it would see
 * white text over the menu's grey while the items move).
 */
async function settle(page: Page): Promise<void> {
  const size = JSON.stringify(page.viewportSize());
  if (lastViewport.get(page) !== size) {
    lastViewport.set(page, size);
    await page.waitForTimeout(400);
  }
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

/** Runs axe-core on the page as it is now and returns the WCAG 2.2 AA violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await settle(page);
  const loaded = await page.evaluate('typeof window.axe === "object"');
  // Evaluated through the DevTools protocol rather than added as a <script>: the pages' Content
  // Security Policy rightly refuses scripts it did not issue a nonce for.
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const scope = globalThis as unknown as {
      document: unknown;
      axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
    };
    const result = await scope.axe.run(scope.document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, ...(n.failureSummary ? { failureSummary: n.failureSummary } : {}) })),
    }));
  }, [...WCAG_TAGS]);
}

/** Violations as text a developer can act on: rule, what it means, and each offending element. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => [`${v.id} (${v.impact ?? 'no impact given'}): ${v.help} ${v.helpUrl}`, ...v.nodes.map((n) => `  ${JSON.stringify(n.target)} ${n.html.slice(0, 200)}\n    ${(n.failureSummary ?? '').replaceAll('\n', '\n    ')}`)].join('\n'))
    .join('\n');
}

/** How far the page is wider than the window (0 when it fits: no sideways scrolling). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth)');
}

export const SCREENSHOTS = path.resolve('screenshots');

/** Saves a full-page screenshot to ./screenshots/<name>.png (gitignored) for people to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The checks every page of a journey gets: axe WCAG 2.2 AA at desktop and phone width, no
 * sideways scrolling on a phone, a screenshot at each width (<name>-desktop, <name>-phone), and no
 * Content Security Policy violations so far (start recording with `cspViolations(page)` first).
 * Leaves the page at desktop width.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  const desktop = await axeViolations(page);
  expect(desktop, `${name} at desktop width:\n${describeViolations(desktop)}`).toEqual([]);
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  const phone = await axeViolations(page);
  expect(phone, `${name} at phone width:\n${describeViolations(phone)}`).toEqual([]);
  expect(await horizontalOverflow(page), `${name} scrolls sideways on a phone`).toBeLessThanOrEqual(1);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
  expect(cspViolations(page), 'Content Security Policy violations').toEqual([]);
}
