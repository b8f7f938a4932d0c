/** A Patient as a banner shows it: name, date of birth, NHS number. */
import type { Database } from '../../core/db/database.js';
import { FhirStore } from '../../fhir/store.js';
import { formatNhsNumber } from '../../web/render.js';
import { NHS_NUMBER_SYSTEM } from '../identity/citizens.js';

export interface PatientSummary {
  id: string;
  name: string;
  birthDate?: string | undefined;
  /** Formatted as people read it: 943 476 5919. */
  nhsNumber?: string | undefined;
}


/** A Patient's name, date of birth and NHS number for a banner, or undefined when there is no such Patient. */
export async function patientSummary(db: Database, id: string): Promise<PatientSummary | undefined> {
  try {
    const patient = (await new FhirStore(db).read('Patient', id)) as {
      id: string;
      name?: { text?: string; given?: string[]; family?: string }[];
      birthDate?: string;
      identifier?: { system?: string; value?: string }[];
    };
    const name = patient.name?.[0];
    const nhsNumber = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
    return {
      id: patient.id,
      name: name?.text ?? ([...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || 'Name not recorded'),
      birthDate: patient.birthDate,
      nhsNumber: nhsNumber ? formatNhsNumber(nhsNumber) : undefined,
    };
  } catch {
    return undefined;
  }
}
