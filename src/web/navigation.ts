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
