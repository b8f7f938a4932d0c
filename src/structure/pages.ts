/** Web pages for the ICS structure (placeholder until the pages are written). */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.js';

export async function registerStructurePages(_app: FastifyInstance, _ctx: AppContext): Promise<void> {}
