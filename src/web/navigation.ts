/**
 * The header navigation of an ICS's pages. Each module registers its own sections when it
 * registers its pages, so the structure module's pages can link to governance or finance
 * without importing them: dependencies keep pointing one way.
 */

export interface IcsSection {
  key: string;
  text: string;
  /** Path under /ics/:ics; '' for the ICS's own page. */
  path: string;
  /** Position in the header, lowest first. */
  order: number;
}

export interface NavItem {
  href: string;
  text: string;
  current?: boolean;
  active?: boolean;
}

const sections = new Map<string, IcsSection>();

/** Registers a section of the ICS pages (again with the same key replaces it). */
export function registerIcsSection(section: IcsSection): void {
  sections.set(section.key, section);
}

/**
 * The header items for one ICS. `current` marks the section the page belongs to: `exact` when
 * the page is the section's own page (aria-current="page"), otherwise a page within it.
 */
export function icsNavigation(icsCode: string, current?: { key: string; exact?: boolean }): NavItem[] {
  const base = `/ics/${encodeURIComponent(icsCode)}`;
  return [...sections.values()]
    .sort((a, b) => a.order - b.order)
    .map((s) => {
      const item: NavItem = { href: `${base}${s.path}`, text: s.text };
      if (current?.key === s.key) {
        if (current.exact) item.current = true;
        else item.active = true;
      }
      return item;
    });
}

/**
 * Work a signed-in person can go to from the home page, for the role they act in. Each module
 * registers its own when it registers its pages; web knows roles only as the strings the access
 * module gives it.
 */
export interface RoleTask {
  href: string;
  text: string;
  /** One line on what it is for. */
  description: string;
  /** The role codes it is for (src/access/context.ts ROLES). */
  roles: readonly string[];
}

const tasks = new Map<string, RoleTask>();

/** Registers a task (again with the same href replaces it). */
export function registerRoleTask(task: RoleTask): void {
  tasks.set(task.href, task);
}

/** The tasks for a role, in the order they were registered. */
export function tasksForRole(role: string | undefined): RoleTask[] {
  return role === undefined ? [] : [...tasks.values()].filter((t) => t.roles.includes(role));
}
