/**
 * Every form that POSTs carries the CSRF token: a form without it would be refused (403) as soon
 * as someone signed in submits it. Checks every module's templates, so a new form cannot forget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../', import.meta.url));

function templates(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return templates(full);
    return entry.name.endsWith('.njk') ? [full] : [];
  });
}

/** Each POST form's markup, from its opening tag to its closing tag. */
function postForms(html: string): string[] {
  return [...html.matchAll(/<form\b[^>]*\bmethod="post"[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
}

describe('POST forms', () => {
  const files = templates(SRC);

  it('are found in the modules’ templates', () => {
    expect(files.filter((f) => postForms(fs.readFileSync(f, 'utf8')).length > 0).length).toBeGreaterThanOrEqual(15);
  });

  it('each carry the hidden _csrf field', () => {
    const missing = files.flatMap((file) =>
      postForms(fs.readFileSync(file, 'utf8'))
        .filter((form) => !/<input type="hidden" name="_csrf" value="\{\{/.test(form))
        .map((form) => `${path.relative(SRC, file)}: ${/<form[^>]*>/.exec(form)?.[0] ?? form.slice(0, 80)}`),
    );
    expect(missing).toEqual([]);
  });
});
