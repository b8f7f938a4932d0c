/**
 * What every page needs to know about the request it answers, whichever module renders it: who
 * is signed in (the header's account links), the token each form carries against cross-site
 * request forgery, and the nonce that lets the page's own inline script run under the Content
 * Security Policy. Web knows nothing of sign-in: the access module fills these for each request
 * (src/access/identity/plugin.ts), and the renderer hands them to every template as `pageRequest`,
 * so module handlers need not pass them.
 *
 * They travel with the request in an AsyncLocalStorage, because modules render with a renderer
 * made once at start-up that never sees the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface PageAccount {
  /** "Dr Aisha Rahman". */
  name: string;
  /** The role and organisation acted in, e.g. "Doctor at M81001"; absent until chosen. */
  acting?: string;
  /** Where to change role, when the user holds several. */
  changeRoleHref?: string;
  /** What the role acted in can go to (navigation.ts `tasksForRole`), for the home page. */
  tasks?: Array<{ href: string; text: string; description: string }>;
}

export interface PageRequestLocals {
  /** Whether this app has sign-in at all (the header shows "Sign in" only then). */
  signIn?: boolean;
  /** The signed-in person, or absent. */
  account?: PageAccount;
  /** The value of the hidden `_csrf` field every POST form carries. */
  csrfToken?: string;
  /** The Content Security Policy nonce of this response's inline scripts. */
  cspNonce?: string;
  /** The path (and query) of this page, for "sign in and come back here". */
  path?: string;
}

const storage = new AsyncLocalStorage<PageRequestLocals>();

/** Runs `work` (and everything it starts) with these locals. */
export function runWithPageLocals<T>(locals: PageRequestLocals, work: () => T): T {
  return storage.run(locals, work);
}

/** The locals of the request being answered, or an empty object outside one (tests, commands). */
export function pageLocals(): PageRequestLocals {
  return storage.getStore() ?? {};
}
