/**
 * The shared care record's FHIR operations, given to the FHIR API by app.ts: `Patient/$everything`
 * over every source's records of a linked resident (the master patient index says which source
 * Patients are one resident), and the International Patient Summary (`Patient/$summary`), built
 * from the same joined record.
 */
import { everythingRoutes } from '../fhir/everything.js';
import type { FhirRouteRegistrar } from '../fhir/http.js';
import { linkedPatientKeys } from './mpi/residents.js';
import { summaryRoutes } from './summary/routes.js';

export const recordFhirOperations: readonly FhirRouteRegistrar[] = [everythingRoutes({ linkage: linkedPatientKeys }), summaryRoutes({ linkage: linkedPatientKeys })];
