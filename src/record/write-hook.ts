/**
 * The FHIR store's write hook for the whole platform: the access policy's (relationships,
 * consents, sensitive labels), then the master patient index's (each source Patient linked to a
 * resident, and the access policy's persons with it), in the same transaction as the write.
 */
import { accessWriteHook } from '../access/policy/write-hook.js';
import type { FhirWriteHook } from '../fhir/store.js';
import { mpiWriteHook } from './mpi/linker.js';

export const recordWriteHook: FhirWriteHook = async (q, written) => {
  await accessWriteHook(q, written);
  await mpiWriteHook(q, written);
};
