/**
 * The streaming writer: each resident's serialised feeds, in order, appended to
 *
 *   <out>/feeds/<holder>/<ResourceType>.ndjson    one resource per line, per holder and type
 *   <out>/bundles/<holder>/<nnnnn>.json           transaction Bundles of PUT entries (resending one is
 *                                                  idempotent), up to `bundleEntries` entries each,
 *                                                  a resident's records at a holder never split
 *   <out>/ground-truth/residents.ndjson           the true residents, one per line
 *   <out>/ground-truth/links.ndjson               which holder's Patient is which resident
 *   <out>/manifest.json                           what was generated: parameters, counts, files
 *
 * Memory stays flat: text is buffered per file and written in large chunks, with a cap on all
 * buffers together; files stay open between writes (at most `maxOpenFiles` at once, the least
 * recently written closed first). Nothing in the output depends on time or on the machine, so
 * the same input gives the same bytes.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HolderFeed } from './feeds.js';
import type { SourceKind } from './flaws.js';
import type { Resident } from './model.js';

/** One holder's copy of one resident, as JSON text (made in a worker, written by the main thread). */
export interface SerializedFeed {
  holder: string;
  kind: SourceKind;
  system: string;
  /** Flattened triples: type, id, JSON; the Patient first, then the records. */
  resources: string[];
  /** Flattened pairs: code, JSON of each Organization the copy refers to. */
  organizations: string[];
  /** The ground-truth link, as one JSON line. */
  link: string;
}

export interface SerializedResident {
  /** The true resident, as one JSON line. */
  resident: string;
  feeds: SerializedFeed[];
}

export function serializeResident(resident: Resident, feeds: readonly HolderFeed[]): SerializedResident {
  return {
    resident: JSON.stringify(resident),
    feeds: feeds.map((feed) => {
      const resources: string[] = [feed.patient.resourceType, feed.patient.id, JSON.stringify(feed.patient)];
      for (const record of feed.records) resources.push(record.resourceType, record.id, JSON.stringify(record));
      const organizations: string[] = [];
      for (const org of feed.organizations) organizations.push(org.id, JSON.stringify(org));
      return { holder: feed.holder, kind: feed.kind, system: feed.system, resources, organizations, link: JSON.stringify(feed.link) };
    }),
  };
}

export interface WriterOptions {
  /** At most this many entries per Bundle, unless one resident's records alone are more (default 1000). */
  bundleEntries?: number;
  /** A file's buffer is written out when it holds this many characters (default 256 Ki). */
  fileBufferChars?: number;
  /** All buffers are written out when together they hold this many characters (default 32 Mi). */
  totalBufferChars?: number;
  /** At most this many files open at once (default 256). */
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

class BufferedFile {
  chunks: string[] = [];
  chars = 0;
  bytes = 0;
  count = 0;
  fd: number | undefined;
  /** Created (and truncated) on the first write; appended to after. */
  created = false;

  constructor(readonly path: string) {}
}

/** Files written through per-file buffers, with a bounded number open. */
class FileSet {
  private readonly files = new Map<string, BufferedFile>();
  /** Open files, least recently written first. */
  private readonly open = new Map<string, BufferedFile>();
  private buffered = 0;
  readonly done: ManifestFile[] = [];

  constructor(
    private readonly root: string,
    private readonly fileBufferChars: number,
    private readonly totalBufferChars: number,
    private readonly maxOpenFiles: number,
  ) {}

  file(path: string): BufferedFile {
    let file = this.files.get(path);
    if (file === undefined) {
      file = new BufferedFile(path);
      this.files.set(path, file);
    }
    return file;
  }

  append(file: BufferedFile, text: string): void {
    file.chunks.push(text);
    file.chars += text.length;
    this.buffered += text.length;
    if (file.chars >= this.fileBufferChars) this.flush(file);
    if (this.buffered >= this.totalBufferChars) for (const f of this.files.values()) this.flush(f);
  }

  flush(file: BufferedFile): void {
    if (file.chars === 0 && file.created) return;
    const text = file.chunks.length === 1 ? (file.chunks[0] ?? '') : file.chunks.join('');
    file.chunks = [];
    this.buffered -= file.chars;
    file.chars = 0;
    const fd = this.fdOf(file);
    if (text.length > 0) file.bytes += writeSync(fd, text);
  }

  /** Writes out, closes and forgets a file (a finished Bundle), keeping its line for the manifest. */
  close(file: BufferedFile): void {
    this.flush(file);
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

  private fdOf(file: BufferedFile): number {
    if (file.fd !== undefined) {
      // Most recently written last.
      this.open.delete(file.path);
      this.open.set(file.path, file);
      return file.fd;
    }
    while (this.open.size >= this.maxOpenFiles) {
      const [, oldest] = this.open.entries().next().value as [string, BufferedFile];
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
  organizations: Set<string>;
  bundles: number;
  bundle: BufferedFile | undefined;
}

const BUNDLE_START = '{"resourceType":"Bundle","type":"transaction","entry":[\n';
const BUNDLE_END = '\n]}\n';

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
  private readonly holders = new Map<string, HolderState>();
  private readonly residentsFile: BufferedFile;
  private readonly linksFile: BufferedFile;
  private residents = 0;
  private patients = 0;
  private resources = 0;

  constructor(
    readonly out: string,
    options: WriterOptions = {},
  ) {
    this.files = new FileSet(out, options.fileBufferChars ?? 256 * 1024, options.totalBufferChars ?? 32 * 1024 * 1024, options.maxOpenFiles ?? 256);
    this.bundleEntries = options.bundleEntries ?? 1000;
    this.residentsFile = this.files.file('ground-truth/residents.ndjson');
    this.linksFile = this.files.file('ground-truth/links.ndjson');
  }

  /** Residents written so far. */
  get written(): number {
    return this.residents;
  }

  write(resident: SerializedResident): void {
    this.residents += 1;
    this.line(this.residentsFile, resident.resident);
    for (const feed of resident.feeds) this.writeFeed(feed);
  }

  private holder(feed: SerializedFeed): HolderState {
    let state = this.holders.get(feed.holder);
    if (state === undefined) {
      state = { kind: feed.kind, system: feed.system, patients: 0, resources: new Map(), organizations: new Set(), bundles: 0, bundle: undefined };
      this.holders.set(feed.holder, state);
    }
    return state;
  }

  private line(file: BufferedFile, json: string): void {
    file.count += 1;
    this.files.append(file, `${json}\n`);
  }

  private writeFeed(feed: SerializedFeed): void {
    const state = this.holder(feed);
    state.patients += 1;
    this.patients += 1;
    this.line(this.linksFile, feed.link);

    // Organizations first (each once per holder), so a Bundle never refers forwards to one.
    const entries: Array<[string, string, string]> = [];
    for (let i = 0; i + 1 < feed.organizations.length; i += 2) {
      const code = feed.organizations[i] ?? '';
      if (state.organizations.has(code)) continue;
      state.organizations.add(code);
      entries.push(['Organization', code, feed.organizations[i + 1] ?? '']);
    }
    for (let i = 0; i + 2 < feed.resources.length; i += 3) entries.push([feed.resources[i] ?? '', feed.resources[i + 1] ?? '', feed.resources[i + 2] ?? '']);

    let bundle = state.bundle;
    if (bundle !== undefined && bundle.count > 0 && bundle.count + entries.length > this.bundleEntries) {
      this.finishBundle(state);
      bundle = undefined;
    }
    if (bundle === undefined) {
      state.bundles += 1;
      bundle = this.files.file(`bundles/${feed.holder}/${String(state.bundles).padStart(5, '0')}.json`);
      state.bundle = bundle;
      this.files.append(bundle, BUNDLE_START);
    }
    for (const [type, id, json] of entries) {
      this.resources += 1;
      state.resources.set(type, (state.resources.get(type) ?? 0) + 1);
      this.line(this.files.file(`feeds/${feed.holder}/${type}.ndjson`), json);
      this.files.append(bundle, `${bundle.count > 0 ? ',\n' : ''}{"resource":${json},"request":{"method":"PUT","url":"${type}/${id}"}}`);
      bundle.count += 1;
    }
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
