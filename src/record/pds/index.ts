/**
 * NHS number tracing against the national Personal Demographics Service (PDS): the interface the
 * index uses, and a local stand-in (`LocalPds`, table pds_standin) for tests and the demo, which
 * holds the synthetic residents' true demographics as the "national" record.
 *
 * A trace is offered to a person reviewing a possible match (a source record without a verified
 * NHS number); it does not take part in automatic linking, so the linkage metrics measure the
 * linker alone. A real client (PDS FHIR API, application-restricted) would implement PdsClient.
 */
import type { Queryable } from '../../core/db/database.js';
import type { Resident } from '../../synthetic/model.js';

export interface PdsRecord {
  nhsNumber: string;
  family: string;
  given: string[];
  /** YYYY-MM-DD. */
  birthDate: string;
  sex: string;
  postcode: string | null;
  address: string | null;
  /** YYYY-MM-DD, when the person has died. */
  deceased: string | null;
}

export interface PdsTrace {
  family: string;
  given?: string | undefined;
  /** YYYY-MM-DD. */
  birthDate: string;
  sex?: string | undefined;
  postcode?: string | undefined;
}

export interface PdsClient {
  /** Candidates for these demographics: none, one (a unique trace) or several (ambiguous). */
  trace(query: PdsTrace): Promise<PdsRecord[]>;
  /** The national record of an NHS number, when there is one. */
  retrieve(nhsNumber: string): Promise<PdsRecord | undefined>;
}

interface Row {
  nhs_number: string;
  family: string;
  given: string;
  birth_date: string | Date;
  sex: string;
  postcode: string | null;
  address: string | null;
  deceased: string | Date | null;
}

const COLUMNS = 'nhs_number, family, given, birth_date::text AS birth_date, sex, postcode, address, deceased::text AS deceased';

function fromRow(row: Row): PdsRecord {
  const day = (v: string | Date): string => (typeof v === 'string' ? v.slice(0, 10) : v.toISOString().slice(0, 10));
  return {
    nhsNumber: row.nhs_number,
    family: row.family,
    given: row.given.split(' ').filter((g) => g.length > 0),
    birthDate: day(row.birth_date),
    sex: row.sex,
    postcode: row.postcode,
    address: row.address,
    deceased: row.deceased === null ? null : day(row.deceased),
  };
}

const compactPostcode = (p: string): string => p.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** The local stand-in: an exact trace on family name and date of birth, narrowed by given name, sex and postcode when given. */
export class LocalPds implements PdsClient {
  constructor(private readonly q: Queryable) {}

  async trace(query: PdsTrace): Promise<PdsRecord[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.birthDate) || query.family.trim() === '') return [];
    const { rows } = await this.q.query<Row>(`SELECT ${COLUMNS} FROM pds_standin WHERE birth_date = $1::date AND upper(family) = upper($2) ORDER BY nhs_number LIMIT 20`, [query.birthDate, query.family.trim()]);
    let found = rows.map(fromRow);
    const narrow = (keep: (r: PdsRecord) => boolean): void => {
      const narrowed = found.filter(keep);
      if (narrowed.length > 0) found = narrowed;
    };
    const given = query.given?.trim().toUpperCase();
    if (given) narrow((r) => r.given.some((g) => g.toUpperCase() === given));
    if (query.sex) narrow((r) => r.sex === query.sex);
    const postcode = query.postcode ? compactPostcode(query.postcode) : '';
    if (postcode) narrow((r) => r.postcode !== null && compactPostcode(r.postcode) === postcode);
    return found;
  }

  async retrieve(nhsNumber: string): Promise<PdsRecord | undefined> {
    const { rows } = await this.q.query<Row>(`SELECT ${COLUMNS} FROM pds_standin WHERE nhs_number = $1`, [nhsNumber.replace(/\s+/g, '')]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}

/** Fills the stand-in with residents' true demographics (for the demo: the synthetic population). Loading again updates them. */
export async function loadPdsStandIn(q: Queryable, residents: Iterable<Resident>): Promise<number> {
  const list = [...residents];
  for (let start = 0; start < list.length; start += 1000) {
    const chunk = list.slice(start, start + 1000);
    await q.query(
      `INSERT INTO pds_standin (nhs_number, family, given, birth_date, sex, postcode, address, deceased)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[], $8::date[])
       ON CONFLICT (nhs_number) DO UPDATE SET family = EXCLUDED.family, given = EXCLUDED.given, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
         postcode = EXCLUDED.postcode, address = EXCLUDED.address, deceased = EXCLUDED.deceased`,
      [
        chunk.map((r) => r.nhsNumber),
        chunk.map((r) => r.family),
        chunk.map((r) => r.given.join(' ')),
        chunk.map((r) => r.birthDate),
        chunk.map((r) => r.sex),
        chunk.map((r) => r.address.postcode),
        chunk.map((r) => `${r.address.line}, ${r.address.town}`),
        chunk.map((r) => r.deathDate ?? null),
      ],
    );
  }
  return list.length;
}
