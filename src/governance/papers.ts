/**
 * Checks an uploaded paper before it is stored: only PDF or Markdown, judged by the content
 * itself (a PDF must parse as one), never by the name or the browser's claimed type alone;
 * at most MAX_PAPER_BYTES; stored as bytes in the database with a SHA-256 of the content.
 */
import { createHash } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import { ValidationError } from '../core/errors.js';

export const MAX_PAPER_BYTES = 10 * 1024 * 1024;

export interface CheckedPaper {
  format: 'pdf' | 'markdown';
  filename: string;
  bytes: Buffer;
  sha256: string;
}

/** A safe file name: no directories, no control characters, a sensible extension. */
export function safeFilename(name: string, format: 'pdf' | 'markdown'): string {
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[^A-Za-z0-9._ -]+/g, '').replace(/^\.+/, '').trim().slice(0, 120);
  const stem = base.replace(/\.(pdf|md|markdown)$/i, '') || 'paper';
  return `${stem}.${format === 'pdf' ? 'pdf' : 'md'}`;
}

export async function checkPaper(filename: string, bytes: Buffer, field = 'file'): Promise<CheckedPaper> {
  if (bytes.length === 0) throw ValidationError.field(field, 'The file is empty');
  if (bytes.length > MAX_PAPER_BYTES) throw ValidationError.field(field, `The file must be smaller than ${MAX_PAPER_BYTES / 1024 / 1024} MB`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') {
    // pdf-lib is forgiving: a readable PDF must also end with %%EOF and have at least one page.
    let pages = 0;
    try {
      if (!bytes.subarray(-1024).toString('latin1').includes('%%EOF')) throw new Error('no end-of-file marker');
      pages = (await PDFDocument.load(bytes, { updateMetadata: false })).getPageCount();
    } catch {
      pages = 0;
    }
    if (pages === 0) throw ValidationError.field(field, 'The file says it is a PDF but cannot be read as one');
    return { format: 'pdf', filename: safeFilename(filename, 'pdf'), bytes, sha256 };
  }
  if (/\.(md|markdown)$/i.test(filename)) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw ValidationError.field(field, 'A Markdown paper must be UTF-8 text');
    }
    if (text.includes('\u0000')) throw ValidationError.field(field, 'A Markdown paper must be text, not binary');
    return { format: 'markdown', filename: safeFilename(filename, 'markdown'), bytes, sha256 };
  }
  throw ValidationError.field(field, 'The file must be a PDF or a Markdown (.md) document');
}
