/**
 * The FHIR store's write hook for the whole platform: the access policy's (relationships,
 * consents, sensitive labels), then the master patient index's (each source Patient linked to a
 * resident, and the access policy's persons with it), in the same transaction as the write. The
 * index takes its blocking keys' locks first (src/record/mpi/locks.ts), before the access hook
 * holds any row a merge waiting for those keys may need.
 */
import { accessWriteHook } from '../access/policy/write-hook.js';
import type { FhirWriteHook } from '../fhir/store.js';
import { prepareMpiWrite } from './mpi/linker.js';

export const recordWriteHook: FhirWriteHook = async (q, written) => {
  const link = await prepareMpiWrite(q, written);
  await accessWriteHook(q, written);
  await link();
};
