/**
 * Measures a generated population's activity the way `ACTIVITY_TARGETS` defines it, from the
 * residents and their held records (before feeds.ts), so the tests and the profile command
 * compare like with like. Streaming: add residents one at a time, then read the result.
 */
import type { Encounter } from '@medplum/fhirtypes';
import { type ACTIVITY_TARGETS } from './activity.js';
import { ASC_SERVICE_TYPE, CARE_SERVICE, DISCHARGE_METHOD, EXT_ADMISSION_METHOD, EXT_DISCHARGE_METHOD, UKCORE_ADMISSION_METHOD, UKCORE_DISCHARGE_METHOD } from './codes.js';
import type { HeldRecord, Resident } from './model.js';

export type ActivityMeasure = keyof typeof ACTIVITY_TARGETS;

const DAY_MS = 86_400_000;
const YEAR = 365.25;

function day(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

function admissionMethod(e: Encounter): string | undefined {
  const ext = e.extension?.find((x) => x.url === EXT_ADMISSION_METHOD);
  return ext?.valueCodeableConcept?.coding?.find((c) => c.system === UKCORE_ADMISSION_METHOD)?.code;
}

/** The discharge method code, compared by value so that records read back from the feeds count too. */
const DIED = DISCHARGE_METHOD.died.valueCodeableConcept?.coding?.[0]?.code ?? '4';
function dischargeMethod(e: Encounter): string | undefined {
  const ext = e.extension?.find((x) => x.url === EXT_DISCHARGE_METHOD);
  return ext?.valueCodeableConcept?.coding?.find((c) => c.system === UKCORE_DISCHARGE_METHOD)?.code;
}

function careService(e: { serviceType?: { coding?: { system?: string; code?: string }[] }; type?: { coding?: { system?: string; code?: string }[] }[] }): string | undefined {
  const codings = [...(e.serviceType?.coding ?? []), ...(e.type ?? []).flatMap((t) => t.coding ?? [])];
  return codings.find((c) => c.system === CARE_SERVICE || c.system === ASC_SERVICE_TYPE)?.code;
}

export class ActivityMeasurer {
  private readonly asOf: number;
  private readonly start: number;
  private personYears = 0;
  private womanYears = 0;
  private aliveAtAsOf = 0;
  private adultsAtAsOf = 0;
  private deaths = 0;
  private counts = {
    gp: 0,
    ed: 0,
    emergency: 0,
    ambulance: 0,
    outpatient: 0,
    rttStarts: 0,
    community: 0,
    mentalHealth: 0,
    ascLongTerm: 0,
    deliveries: 0,
    hospitalDeaths: 0,
  };
  /** Days waited by each open RTT pathway at asOf. */
  readonly waits: number[] = [];

  constructor(asOf: string) {
    this.asOf = day(asOf);
    this.start = day(`${Number(asOf.slice(0, 4)) - 5}${asOf.slice(4, 10) === '-02-29' ? '-02-28' : asOf.slice(4, 10)}`);
  }

  add(resident: Resident, records: readonly HeldRecord[]): void {
    this.addResident(resident);
    this.addRecords(resident, records);
  }

  /** A resident's person-time and status at asOf (the denominators), without their records. */
  addResident(resident: Pick<Resident, 'birthDate' | 'deathDate' | 'sex'>): void {
    const birth = day(resident.birthDate);
    const death = resident.deathDate === undefined ? Infinity : day(resident.deathDate);
    const from = Math.max(this.start, birth);
    const to = Math.min(this.asOf, death);
    if (to > from) this.personYears += (to - from) / YEAR;
    if (resident.sex === 'female') {
      const lo = Math.max(from, birth + Math.round(15 * YEAR));
      const hi = Math.min(to, birth + Math.round(45 * YEAR));
      if (hi > lo) this.womanYears += (hi - lo) / YEAR;
    }
    const alive = death > this.asOf && birth <= this.asOf;
    const adult = alive && this.asOf - birth >= 18 * YEAR;
    if (alive) this.aliveAtAsOf += 1;
    if (adult) this.adultsAtAsOf += 1;
    if (death >= this.start && death <= this.asOf) this.deaths += 1;
  }

  /**
   * Some of a resident's records (the numerators); may be called several times per resident, as
   * the profile command does when it reads the feeds file by file. `addResident` once as well.
   */
  addRecords(resident: Pick<Resident, 'id' | 'birthDate' | 'deathDate' | 'practice' | 'council'>, records: readonly HeldRecord[]): void {
    const birth = day(resident.birthDate);
    const death = resident.deathDate === undefined ? Infinity : day(resident.deathDate);
    const alive = death > this.asOf && birth <= this.asOf;
    const adult = alive && this.asOf - birth >= 18 * YEAR;
    let longTerm = false;
    for (const r of records) {
      const res = r.resource;
      if (res.resourceType === 'Encounter') {
        const cls = res.class.code;
        if (r.holder === resident.practice) {
          if (cls === 'AMB') this.counts.gp += 1;
          continue;
        }
        const service = careService(res);
        if (cls === 'EMER') this.counts.ed += 1;
        else if (cls === 'FLD') this.counts.ambulance += 1;
        else if (cls === 'IMP') {
          const method = admissionMethod(res);
          if (method?.startsWith('2')) this.counts.emergency += 1;
          if (method === '31') this.counts.deliveries += 1;
          if (dischargeMethod(res) === DIED) this.counts.hospitalDeaths += 1;
        } else if (service === 'district-nursing') this.counts.community += 1;
        else if (service === 'cmht' || service === 'talking-therapies') this.counts.mentalHealth += 1;
        else if (cls === 'AMB' && res.status === 'finished' && r.holder !== resident.council) this.counts.outpatient += 1;
      } else if (res.resourceType === 'EpisodeOfCare') {
        const ep = res;
        const service = careService(ep);
        if (service === 'rtt-pathway') {
          const start = day(ep.period?.start ?? '');
          if (start >= this.start) this.counts.rttStarts += 1;
          if (ep.status === 'waitlist' && alive) this.waits.push(this.asOf - start);
        } else if (adult && ep.status === 'active' && service?.startsWith('LTS-') === true) longTerm = true;
      }
    }
    if (longTerm && !this.longTermResidents.has(resident.id)) {
      this.longTermResidents.add(resident.id);
      this.counts.ascLongTerm += 1;
    }
  }

  /** Residents counted with long-term support, so that records read in parts count them once. */
  private readonly longTermResidents = new Set<string>();

  result(): Record<ActivityMeasure, number> {
    const py = this.personYears || 1;
    const waits = [...this.waits].sort((a, b) => a - b);
    const median = waits.length === 0 ? 0 : (waits[Math.floor((waits.length - 1) / 2)] as number) / 7;
    return {
      gpConsultations: this.counts.gp / py,
      edAttendances: this.counts.ed / py,
      emergencyAdmissions: this.counts.emergency / py,
      ambulanceIncidents: this.counts.ambulance / py,
      outpatientAttendances: this.counts.outpatient / py,
      rttClockStarts: this.counts.rttStarts / py,
      waitingListPerPerson: this.waits.length / (this.aliveAtAsOf || 1),
      medianWaitWeeks: median,
      within18WeeksShare: waits.length === 0 ? 0 : waits.filter((w) => w <= 126).length / waits.length,
      over52WeeksShare: waits.length === 0 ? 0 : waits.filter((w) => w > 364).length / waits.length,
      communityNursingContacts: this.counts.community / py,
      mentalHealthContacts: this.counts.mentalHealth / py,
      adultSocialCareLongTerm: this.counts.ascLongTerm / (this.adultsAtAsOf || 1),
      deliveriesPerWoman: this.counts.deliveries / (this.womanYears || 1),
      inHospitalDeathShare: this.deaths === 0 ? 0 : this.counts.hospitalDeaths / this.deaths,
    };
  }
}
