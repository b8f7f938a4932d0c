import { describe, expect, it } from 'vitest';
import { icsNavigation, registerIcsSection, registerRoleTask, tasksForRole } from './navigation.js';

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

describe('role tasks', () => {
  it('gives each role the tasks registered for it, in order, and nothing to no role', () => {
    registerRoleTask({ href: '/a', text: 'A', description: 'a', roles: ['doctor', 'nurse'] });
    registerRoleTask({ href: '/b', text: 'B', description: 'b', roles: ['nurse'] });
    expect(tasksForRole('nurse').map((t) => t.href)).toEqual(['/a', '/b']);
    expect(tasksForRole('doctor').map((t) => t.href)).toEqual(['/a']);
    expect(tasksForRole('analyst')).toEqual([]);
    expect(tasksForRole(undefined)).toEqual([]);
  });
});
