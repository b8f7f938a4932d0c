/**
 * A generator worker thread (started by generate.ts through generate-worker.mjs): makes the batch
 * of households it is asked for and sends them back serialised, one batch at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BatchReply, HouseholdProducer, type WorkerData, type WorkerRequest } from './generate.js';
import type { SpareBuffers } from './writer.js';

const port = parentPort;
if (port === null) throw new Error('generate-worker.ts runs as a worker thread of generate.ts');
const data = workerData as WorkerData;
const producer = new HouseholdProducer(data.parameters, data.area);
// Buffers of written batches, back from the main thread to be filled again.
const spares: SpareBuffers[] = [];
port.on('message', (request: WorkerRequest) => {
  if ('spare' in request) {
    spares.push(request.spare);
    return;
  }
  let reply: BatchReply;
  try {
    const packed = producer.batch(request.batch, spares.pop());
    reply = { batch: request.batch, packed };
    // The bytes move to the main thread without a copy.
    port.postMessage(reply, [packed.bytes.buffer as ArrayBuffer, packed.ops.buffer as ArrayBuffer]);
    return;
  } catch (error) {
    reply = { batch: request.batch, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
