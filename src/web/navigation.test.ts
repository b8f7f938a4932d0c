import { describe, expect, it } from 'vitest';
import { icsNavigation, registerIcsSection } from './navigation.js';

describe('ICS header navigation', () => {
  it('lists registered sections in order and marks the current one', () => {
    registerIcsSection({ key: 'later', text: 'Later', path: '/later', order: 20 });
    registerIcsSection({ key: 'overview', text: 'Overview', path: '', order: 10 });
    expect(icsNavigation('QGH', { key: 'later' })).toEqual([
      { href: '/ics/QGH', text: 'Overview' },
      { href: '/ics/QGH/later', text: 'Later', active: true },
    ]);
    expect(icsNavigation('QGH', { key: 'overview', exact: true })[0]).toEqual({ href: '/ics/QGH', text: 'Overview', current: true });
  });
});
