/**
 * The streaming writer: residents' feeds, in order, appended to
 *
 *   <out>/feeds/<holder>/<ResourceType>.ndjson    one resource per line, per holder and type
 *   <out>/bundles/<holder>/<nnnnn>.json           transaction Bundles of PUT entries (resending one is
 *                                                  idempotent), up to `bundleEntries` entries each,
 *                                                  a resident's records at a holder never split
 *                                                  (left out with `bundles: false`)
 *   <out>/ground-truth/residents.ndjson           the true residents, one per line
 *   <out>/ground-truth/links.ndjson               which holder's Patient is which resident
 *   <out>/manifest.json                           what was generated: parameters, counts, files
 *
 * Work is split so that the thread that writes does almost nothing else. `packResidents` (run in
 * the worker threads) serialises a batch of residents into one UTF-8 buffer, with each resource
 * already wrapped as its Bundle entry, plus a small table of where each piece is; the buffer moves
 * to the main thread without copying. `FeedWriter.write` then only copies byte ranges into
 * per-file buffers and writes them out in large chunks.
 *
 * Memory stays flat: one buffer per file, a cap on all buffers together, and at most
 * `maxOpenFiles` files open at once (the least recently written closed first). Nothing in the
 * output depends on time or the machine, so the same input gives the same bytes.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HolderFeed } from './feeds.js';
import type { SourceKind } from './flaws.js';
import type { Resident } from './model.js';

// ---------------------------------------------------------------------------------------------
// A packed batch: what a worker sends the writer.

/** Operations in `PackedBatch.ops`, each followed by its fixed number of integers. */
const OP_RESIDENT = 1; // start, end: the resident's ground-truth line
const OP_FEED = 2; // holder, kind, system (string indexes), linkStart, linkEnd, organisations, resources
const OP_ORGANIZATION = 3; // code (string index), entryStart, jsonStart, jsonEnd, entryEnd
const OP_RESOURCE = 4; // type (string index), entryStart, jsonStart, jsonEnd, entryEnd

export interface PackedBatch {
  /** UTF-8 text: ground-truth lines and, for each resource, its whole Bundle entry. */
  bytes: Uint8Array;
  /** The operations (see OP_*), as integers. */
  ops: Int32Array;
  /** Holder codes, kinds, systems and resource types the operations name by index. */
  strings: string[];
  residents: number;
}

/** Buffers of a written batch, handed back to be filled again (saves allocating and collecting them). */
export interface SpareBuffers {
  bytes: ArrayBuffer;
  ops: ArrayBuffer;
}

/** Builds a PackedBatch: text into one growing buffer, operations into one growing integer array. */
class Packer {
  private bytes: Buffer;
  private used = 0;
  private ops: Int32Array;
  private opCount = 0;

  constructor(spare: SpareBuffers | undefined) {
    // A batch of a hundred residents is about 6 MB of text; start big enough not to grow.
    this.bytes = spare ? Buffer.from(spare.bytes) : Buffer.allocUnsafe(8 << 20);
    this.ops = spare ? new Int32Array(spare.ops) : new Int32Array(1 << 16);
  }

  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  residents = 0;

  string(value: string): number {
    let index = this.stringIndex.get(value);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(value);
      this.stringIndex.set(value, index);
    }
    return index;
  }

  /** Room for `n` more integers in `ops`. */
  private room(n: number): Int32Array {
    if (this.opCount + n > this.ops.length) {
      const grown = new Int32Array(this.ops.length * 2 + n);
      grown.set(this.ops.subarray(0, this.opCount));
      this.ops = grown;
    }
    return this.ops;
  }

  op3(a: number, b: number, c: number): void {
    const ops = this.room(3);
    ops[this.opCount++] = a;
    ops[this.opCount++] = b;
    ops[this.opCount++] = c;
  }

  op6(a: number, b: number, c: number, d: number, e: number, f: number): void {
    const ops = this.room(6);
    ops[this.opCount++] = a;
    ops[this.opCount++] = b;
    ops[this.opCount++] = c;
    ops[this.opCount++] = d;
    ops[this.opCount++] = e;
    ops[this.opCount++] = f;
  }

  op8(a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number): void {
    this.op6(a, b, c, d, e, f);
    const ops = this.room(2);
    ops[this.opCount++] = g;
    ops[this.opCount++] = h;
  }

  /** Appends text; returns where it ends. */
  text(value: string): number {
    // UTF-8 needs at most three bytes per UTF-16 code unit.
    const room = value.length * 3;
    if (this.used + room > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + room));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.used += this.bytes.write(value, this.used, 'utf8');
    return this.used;
  }

  get at(): number {
    return this.used;
  }

  /** A resource as its Bundle entry; the NDJSON line is the JSON within it. */
  entry(opCode: number, name: string, type: string, id: string, json: string): void {
    const entryStart = this.used;
    const jsonStart = this.text('{"resource":');
    const jsonEnd = this.text(json);
    const entryEnd = this.text(`,"request":{"method":"PUT","url":"${type}/${id}"}}`);
    this.op6(opCode, this.string(name), entryStart, jsonStart, jsonEnd, entryEnd);
  }

  /** The batch; its buffers are the packer's own (not pooled), so they can be transferred. */
  finish(): PackedBatch {
    return { bytes: new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.used), ops: this.ops.subarray(0, this.opCount), strings: this.strings, residents: this.residents };
  }
}

/** Serialises residents and their holders' feeds for the writer (in a worker, or anywhere). */
export function packResidents(residents: ReadonlyArray<{ resident: Resident; feeds: readonly HolderFeed[] }>, spare?: SpareBuffers): PackedBatch {
  const packer = new Packer(spare);
  // An organisation's JSON is the same in every feed: serialised once per batch.
  const organizations = new Map<string, string>();
  for (const { resident, feeds } of residents) {
    packer.residents += 1;
    const start = packer.at;
    packer.op3(OP_RESIDENT, start, packer.text(JSON.stringify(resident)));
    for (const feed of feeds) {
      const linkStart = packer.at;
      const linkEnd = packer.text(JSON.stringify(feed.link));
      packer.op8(OP_FEED, packer.string(feed.holder), packer.string(feed.kind), packer.string(feed.system), linkStart, linkEnd, feed.organizations.length, 1 + feed.records.length);
      for (const org of feed.organizations) {
        let json = organizations.get(org.id);
        if (json === undefined) {
          json = JSON.stringify(org);
          organizations.set(org.id, json);
        }
        packer.entry(OP_ORGANIZATION, org.id, 'Organization', org.id, json);
      }
      packer.entry(OP_RESOURCE, 'Patient', 'Patient', feed.patient.id, JSON.stringify(feed.patient));
      for (const record of feed.records) packer.entry(OP_RESOURCE, record.type, record.type, record.id, record.json);
    }
  }
  return packer.finish();
}

// ---------------------------------------------------------------------------------------------
// Files.

export interface WriterOptions {
  /** At most this many entries per Bundle, unless one resident's records alone are more (default 1000). */
  bundleEntries?: number;
  /** Write the transaction Bundles as well as the NDJSON (default true; false halves the bytes written). */
  bundles?: boolean;
  /** Each file's buffer, in bytes (default 64 KiB). */
  fileBufferBytes?: number;
  /** All buffers are written out and freed when together they pass this many bytes (default 96 MiB). */
  totalBufferBytes?: number;
  /** At most this many files open at once (default: most of the process's limit, up to 4,096). */
  maxOpenFiles?: number;
}

export interface GenerationParameters {
  icb: string;
  people: number;
  seed: number;
  asOf: string;
  generator: string;
}

export interface ManifestFile {
  path: string;
  bytes: number;
  /** NDJSON lines, or Bundle entries. */
  count: number;
}

export interface Manifest extends GenerationParameters {
  counts: {
    residents: number;
    /** Holder copies: one Patient and one ground-truth link each. */
    patients: number;
    resources: number;
    bundles: number;
    bytes: number;
    byHolder: Record<string, { kind: SourceKind; system: string; patients: number; resources: Record<string, number>; bundles: number }>;
  };
  files: ManifestFile[];
}

class OutFile {
  buffer: Buffer | undefined;
  used = 0;
  bytes = 0;
  count = 0;
  fd: number | undefined;
  /** Created (and truncated) on the first write; appended to after. */
  created = false;

  constructor(readonly path: string) {}
}

const NEWLINE = Buffer.from('\n');
const ENTRY_SEPARATOR = Buffer.from(',\n');
const BUNDLE_START = Buffer.from('{"resourceType":"Bundle","type":"transaction","entry":[\n');
const BUNDLE_END = Buffer.from('\n]}\n');

/** Files written through per-file buffers, with a bounded number open. */
class FileSet {
  private readonly files = new Map<string, OutFile>();
  /** Open files, least recently written first. */
  private readonly open = new Map<string, OutFile>();
  private allocated = 0;
  readonly done: ManifestFile[] = [];

  constructor(
    private readonly root: string,
    private readonly fileBufferBytes: number,
    private readonly totalBufferBytes: number,
    private readonly maxOpenFiles: number,
  ) {}

  file(path: string): OutFile {
    let file = this.files.get(path);
    if (file === undefined) {
      file = new OutFile(path);
      this.files.set(path, file);
    }
    return file;
  }

  append(file: OutFile, bytes: Uint8Array, start = 0, end = bytes.length): void {
    const length = end - start;
    let buffer = file.buffer;
    if (buffer === undefined) {
      if (this.allocated + this.fileBufferBytes > this.totalBufferBytes) this.release();
      buffer = Buffer.allocUnsafe(this.fileBufferBytes);
      file.buffer = buffer;
      this.allocated += this.fileBufferBytes;
    }
    if (file.used + length > buffer.length) this.flush(file);
    if (length > buffer.length) {
      file.bytes += writeSync(this.fdOf(file), bytes, start, length);
      return;
    }
    buffer.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), file.used);
    file.used += length;
  }

  flush(file: OutFile): void {
    if (file.buffer === undefined || file.used === 0) return;
    const fd = this.fdOf(file);
    let written = 0;
    while (written < file.used) written += writeSync(fd, file.buffer, written, file.used - written);
    file.bytes += written;
    file.used = 0;
  }

  /** Writes out every buffer and frees them (they are made again as files are written to). */
  private release(): void {
    for (const file of this.files.values()) {
      this.flush(file);
      file.buffer = undefined;
    }
    this.allocated = 0;
  }

  /** Writes out, closes and forgets a file (a finished Bundle), keeping its line for the manifest. */
  close(file: OutFile): void {
    this.flush(file);
    if (file.buffer !== undefined) {
      file.buffer = undefined;
      this.allocated -= this.fileBufferBytes;
    }
    if (file.fd !== undefined) {
      closeSync(file.fd);
      file.fd = undefined;
      this.open.delete(file.path);
    }
    this.files.delete(file.path);
    this.done.push({ path: file.path, bytes: file.bytes, count: file.count });
  }

  closeAll(): void {
    for (const file of [...this.files.values()]) this.close(file);
  }

  private fdOf(file: OutFile): number {
    if (file.fd !== undefined) {
      // Most recently written last.
      this.open.delete(file.path);
      this.open.set(file.path, file);
      return file.fd;
    }
    while (this.open.size >= this.maxOpenFiles) {
      const oldest = this.open.values().next().value as OutFile;
      if (oldest.fd !== undefined) closeSync(oldest.fd);
      oldest.fd = undefined;
      this.open.delete(oldest.path);
    }
    const full = join(this.root, file.path);
    if (!file.created) mkdirSync(dirname(full), { recursive: true });
    file.fd = openSync(full, file.created ? 'a' : 'w');
    file.created = true;
    this.open.set(file.path, file);
    return file.fd;
  }
}

interface HolderState {
  kind: SourceKind;
  system: string;
  patients: number;
  resources: Map<string, number>;
  /** The holder's NDJSON file of each resource type. */
  files: Map<string, OutFile>;
  organizations: Set<string>;
  bundles: number;
  bundle: OutFile | undefined;
}

/**
 * How many files the writer keeps open: most of the process's limit on open files (Linux says it
 * in /proc/self/limits), leaving room for everything else, at most 4,096; 256 where it cannot
 * tell. A feed has about fifteen files per holder open at once, so a low limit means reopening.
 */
export function defaultMaxOpenFiles(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!match) return 256;
    const limit = match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
    return Math.max(32, Math.min(4096, Math.floor(limit * 0.75) - 64));
  } catch {
    return 256;
  }
}

/** The parts of a previous generation that a new one in the same directory replaces. */
const GENERATED = ['feeds', 'bundles', 'ground-truth', 'manifest.json'];

/**
 * Makes `out` ready for a generation: it may be missing, empty, or hold an earlier generation
 * (which is removed); anything else is refused, so a mistyped --out never deletes other files.
 */
export function prepareOutput(out: string): void {
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true });
    return;
  }
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  const manifest = join(out, 'manifest.json');
  let ours = false;
  if (existsSync(manifest)) {
    try {
      ours = typeof (JSON.parse(readFileSync(manifest, 'utf8')) as { generator?: unknown }).generator === 'string';
    } catch {
      ours = false;
    }
  }
  const others = entries.filter((e) => !GENERATED.includes(e));
  if (!ours || others.length > 0) {
    throw new Error(`${out} is not empty and does not hold only an earlier generated population; choose an empty or new directory`);
  }
  for (const entry of GENERATED) rmSync(join(out, entry), { recursive: true, force: true });
}

export class FeedWriter {
  private readonly files: FileSet;
  private readonly bundleEntries: number;
  private readonly writeBundles: boolean;
  private readonly holders = new Map<string, HolderState>();
  private readonly residentsFile: OutFile;
  private readonly linksFile: OutFile;
  private residents = 0;
  private patients = 0;
  private resources = 0;

  constructor(
    readonly out: string,
    options: WriterOptions = {},
  ) {
    this.files = new FileSet(out, options.fileBufferBytes ?? 64 * 1024, options.totalBufferBytes ?? 96 * 1024 * 1024, options.maxOpenFiles ?? defaultMaxOpenFiles());
    this.bundleEntries = options.bundleEntries ?? 1000;
    this.writeBundles = options.bundles ?? true;
    this.residentsFile = this.files.file('ground-truth/residents.ndjson');
    this.linksFile = this.files.file('ground-truth/links.ndjson');
  }

  /** Residents written so far. */
  get written(): number {
    return this.residents;
  }

  private line(file: OutFile, bytes: Uint8Array, start: number, end: number): void {
    file.count += 1;
    this.files.append(file, bytes, start, end);
    this.files.append(file, NEWLINE);
  }

  private holder(code: string, kind: SourceKind, system: string): HolderState {
    let state = this.holders.get(code);
    if (state === undefined) {
      state = { kind, system, patients: 0, resources: new Map(), files: new Map(), organizations: new Set(), bundles: 0, bundle: undefined };
      this.holders.set(code, state);
    }
    return state;
  }

  /** Writes a batch of residents (from `packResidents`), after every batch before it. */
  write(batch: PackedBatch): void {
    const { bytes, ops, strings } = batch;
    const name = (index: number | undefined): string => strings[index ?? -1] ?? '';
    let i = 0;
    while (i < ops.length) {
      const op = ops[i];
      if (op === OP_RESIDENT) {
        this.residents += 1;
        this.line(this.residentsFile, bytes, ops[i + 1] ?? 0, ops[i + 2] ?? 0);
        i += 3;
      } else if (op === OP_FEED) {
        const holder = name(ops[i + 1]);
        const state = this.holder(holder, name(ops[i + 2]) as SourceKind, name(ops[i + 3]));
        this.line(this.linksFile, bytes, ops[i + 4] ?? 0, ops[i + 5] ?? 0);
        const organizations = ops[i + 6] ?? 0;
        const resources = ops[i + 7] ?? 0;
        i += 8;
        state.patients += 1;
        this.patients += 1;
        // Organizations new to this holder come first, so a Bundle never refers forwards to one;
        // the copy's entries all go in one Bundle, so its size decides whether a new one starts.
        let entries = resources;
        const fresh: boolean[] = [];
        for (let k = 0; k < organizations; k++) {
          const code = name(ops[i + 6 * k + 1]);
          const isNew = !state.organizations.has(code);
          if (isNew) {
            state.organizations.add(code);
            entries += 1;
          }
          fresh.push(isNew);
        }
        let bundle = state.bundle;
        if (bundle !== undefined && bundle.count > 0 && bundle.count + entries > this.bundleEntries) {
          this.finishBundle(state);
          bundle = undefined;
        }
        if (bundle === undefined && this.writeBundles) {
          state.bundles += 1;
          bundle = this.files.file(`bundles/${holder}/${String(state.bundles).padStart(5, '0')}.json`);
          state.bundle = bundle;
          this.files.append(bundle, BUNDLE_START);
        }
        for (let k = 0; k < organizations + resources; k++, i += 6) {
          if (k < organizations && fresh[k] !== true) continue;
          this.entry(state, holder, k < organizations ? 'Organization' : name(ops[i + 1]), bundle, bytes, ops, i);
        }
      } else {
        throw new Error(`a packed batch has an unknown operation ${op} at ${i}`);
      }
    }
  }

  private entry(state: HolderState, holder: string, type: string, bundle: OutFile | undefined, bytes: Uint8Array, ops: Int32Array, i: number): void {
    let file = state.files.get(type);
    if (file === undefined) {
      file = this.files.file(`feeds/${holder}/${type}.ndjson`);
      state.files.set(type, file);
    }
    this.resources += 1;
    state.resources.set(type, (state.resources.get(type) ?? 0) + 1);
    this.line(file, bytes, ops[i + 3] ?? 0, ops[i + 4] ?? 0);
    if (bundle === undefined) return;
    if (bundle.count > 0) this.files.append(bundle, ENTRY_SEPARATOR);
    this.files.append(bundle, bytes, ops[i + 2] ?? 0, ops[i + 5] ?? 0);
    bundle.count += 1;
  }

  private finishBundle(state: HolderState): void {
    if (state.bundle === undefined) return;
    this.files.append(state.bundle, BUNDLE_END);
    this.files.close(state.bundle);
    state.bundle = undefined;
  }

  /** Closes every Bundle and file and writes the manifest; returns it. */
  finish(parameters: GenerationParameters): Manifest {
    for (const state of this.holders.values()) this.finishBundle(state);
    this.files.closeAll();
    const files = this.files.done.slice().sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const byHolder: Manifest['counts']['byHolder'] = {};
    let bundles = 0;
    for (const holder of [...this.holders.keys()].sort()) {
      const state = this.holders.get(holder);
      if (state === undefined) continue;
      bundles += state.bundles;
      const resources: Record<string, number> = {};
      for (const type of [...state.resources.keys()].sort()) resources[type] = state.resources.get(type) ?? 0;
      byHolder[holder] = { kind: state.kind, system: state.system, patients: state.patients, resources, bundles: state.bundles };
    }
    const manifest: Manifest = {
      ...parameters,
      counts: { residents: this.residents, patients: this.patients, resources: this.resources, bundles, bytes: files.reduce((sum, f) => sum + f.bytes, 0), byHolder },
      files,
    };
    const fd = openSync(join(this.out, 'manifest.json'), 'w');
    try {
      writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    return manifest;
  }
}
