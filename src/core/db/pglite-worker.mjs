// The embedded PostgreSQL engine (PGlite, PostgreSQL compiled to WebAssembly) runs in this
// worker thread so that query execution never blocks the HTTP event loop. It speaks the
// PostgreSQL wire protocol on a Unix socket, so the main thread reaches it with the same
// `pg` client it uses for a PostgreSQL server: one code path for both engines.
// Plain JavaScript because worker threads start outside the TypeScript loader used by tests.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

try {
  const db = await PGlite.create(workerData.dataDir ?? undefined);
  // The pool holds one connection at a time; allowing two lets a replacement connect while a
  // broken one is still being closed. PGlite itself runs one query at a time either way.
  const server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: 2 });
  await server.start();
  parentPort.on('message', async (message) => {
    if (message?.type !== 'close') return;
    await server.stop();
    await db.close();
    parentPort.postMessage({ type: 'closed' });
  });
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
