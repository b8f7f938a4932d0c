import { describe, expect, it } from 'vitest';
import { createRenderer } from './render.js';
import { pageLocals, runWithPageLocals } from './request-locals.js';

// The shared layout every module's pages extend.
const render = createRenderer([]);
const page = (): string => render('layout.njk', { title: 'A page' });

describe('page request locals', () => {
  it('are empty outside a request, and the header then offers no account links', () => {
    expect(pageLocals()).toEqual({});
    const html = page();
    expect(html).not.toContain('nhsuk-header__account');
    expect(html).toMatch(/<script type="module">/);
  });

  it('give the layout the signed-in person, a sign-out form with the CSRF token, and the CSP nonce', () => {
    const html = runWithPageLocals({ signIn: true, cspNonce: 'bm9uY2U=', csrfToken: 'tok<en>', account: { name: 'Dr A & B', acting: 'Doctor, Hereford Medical Group', changeRoleHref: '/sign-in/role' } }, page);
    expect(html).toContain('Dr A &amp; B, Doctor, Hereford Medical Group');
    expect(html).toContain('href="/sign-in/role"');
    expect(html).toMatch(/action="\/sign-out" method="post"/);
    expect(html).toContain('<input type="hidden" name="_csrf" value="tok&lt;en&gt;">');
    expect(html).toContain('<script type="module" nonce="bm9uY2U=">');
    expect(html).toContain('<script nonce="bm9uY2U=">document.body.className');
  });

  it('offer "Sign in", coming back to the page, when nobody is signed in', () => {
    const html = runWithPageLocals({ signIn: true, path: '/ics/QGH?x=1' }, page);
    expect(html).toContain('href="/sign-in?return=%2Fics%2FQGH%3Fx%3D1"');
    expect(html).not.toContain('/sign-out');
  });
});
