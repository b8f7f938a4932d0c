/** Plain-English words for scopes, for the consent page. */
import { CONTEXT_SCOPES, parseSmartScope } from './scopes.js';

const CONTEXT_WORDS: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name',
  fhirUser: 'Know which person or professional record is you',
  launch: 'Open with the patient you launched it from',
  'launch/patient': 'Know which patient it is about',
  'launch/encounter': 'Know which encounter it is about',
  offline_access: 'Keep access when you are not using it, until you revoke it (up to 14 days)',
  online_access: 'Keep access while you are signed in',
};

const ACTION_WORDS: Record<string, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

function list(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}

/** "Read and search Observation records of this patient", "Create, read … any record you may see". */
export function scopeWords(scope: string): string {
  if (CONTEXT_SCOPES.has(scope)) return CONTEXT_WORDS[scope] ?? scope;
  try {
    const parsed = parseSmartScope(scope);
    const verbs = list([...parsed.actions].map((a) => ACTION_WORDS[a] ?? a));
    const what = parsed.type === '*' ? 'all kinds of record' : `${parsed.type} records`;
    const whose = parsed.context === 'patient' ? 'of this patient only' : parsed.context === 'user' ? 'you are allowed to see' : 'as a system';
    return `${verbs.charAt(0).toUpperCase()}${verbs.slice(1)} ${what} ${whose}`;
  } catch {
    return scope;
  }
}
