/**
 * The shared care record's routes (issue 6): the master patient index and its review queue, the
 * clinician's pages (find a resident, the joined record), the partner feeds' dead-letter
 * queue, and opening the documents the record points to. Its FHIR operations are in fhir-operations.ts and its write hook in write-hook.ts, both
 * given to the FHIR API by app.ts.
 */
import type { FastifyInstance } from 'fastify';
import { DIRECT_CARE_ROLES } from '../access/context.js';
import type { AppContext } from '../app.js';
import { registerRoleTask } from '../web/navigation.js';
import { registerDocumentRoutes } from './documents/routes.js';
import { registerFeedRoutes } from './feeds/routes.js';
import { registerMpiRoutes } from './mpi/routes.js';
import { registerRecordPages } from './pages/routes.js';

export async function registerRecord(app: FastifyInstance, context: AppContext): Promise<void> {
  registerRoleTask({ href: '/record', text: 'Find a resident’s record', description: 'The shared care record: what every organisation caring for a person holds, joined into one view.', roles: DIRECT_CARE_ROLES });
  registerRoleTask({ href: '/record/matching', text: 'Possible matches to review', description: 'Records from different organisations that may be the same person: link them or keep them apart.', roles: ['administrator'] });
  registerRoleTask({ href: '/record/feeds/dead-letters', text: 'Refused feed messages', description: 'Messages partner systems sent that could not be accepted: inspect, correct and replay, or discard.', roles: ['administrator'] });
  await registerMpiRoutes(app, context);
  await registerRecordPages(app, context);
  await registerFeedRoutes(app, context);
  await registerDocumentRoutes(app, context);
}
