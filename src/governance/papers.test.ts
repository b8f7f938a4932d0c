import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { MAX_PAPER_BYTES, checkPaper, safeFilename } from './papers.js';

async function pdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText('Board paper');
  return Buffer.from(await doc.save());
}

async function problem(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return `${error.problems[0]?.field}: ${error.problems[0]?.message}`;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('paper uploads', () => {
  it('accepts a real PDF whatever it is called, and Markdown by its extension', async () => {
    expect((await checkPaper('Finance report', await pdf())).format).toBe('pdf');
    const md = await checkPaper('minutes.md', Buffer.from('# Minutes\n\nThe board met.'));
    expect(md).toMatchObject({ format: 'markdown', filename: 'minutes.md' });
    expect(md.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses other files, fake PDFs, binary Markdown, empty and oversized files, naming the field', async () => {
    expect(await problem(checkPaper('report.docx', Buffer.from('PK\u0003\u0004...')))).toBe('file: The file must be a PDF or a Markdown (.md) document');
    expect(await problem(checkPaper('report.pdf', Buffer.from('%PDF-1.7 but not really')))).toBe('file: The file says it is a PDF but cannot be read as one');
    expect(await problem(checkPaper('notes.md', Buffer.from([0xff, 0xfe, 0x00, 0x41])))).toBe('file: A Markdown paper must be UTF-8 text');
    expect(await problem(checkPaper('notes.md', Buffer.alloc(0)))).toBe('file: The file is empty');
    expect(await problem(checkPaper('big.md', Buffer.alloc(MAX_PAPER_BYTES + 1, 0x41)))).toMatch(/^file: The file must be smaller than/);
  });

  it('keeps stored file names free of paths and odd characters', () => {
    expect(safeFilename('../../etc/passwd', 'markdown')).toBe('passwd.md');
    expect(safeFilename('C:\\board\\Item 5 <finance>.pdf', 'pdf')).toBe('Item 5 finance.pdf');
    expect(safeFilename('', 'pdf')).toBe('paper.pdf');
  });
});
