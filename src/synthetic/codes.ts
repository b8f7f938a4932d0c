/**
 * Every code the synthetic histories use, as the NHS systems that hold them use them: SNOMED CT
 * for problems, findings, observations, procedures and immunisations (GP systems, ECDS), dm+d for
 * medicines, ICD-10 and OPCS-4 for hospital coding (HES/SUS), UK Core CodeSystems for NHS data
 * dictionary items where UK Core publishes one, and a few OpenICS CodeSystems (under
 * `https://fhir.openics.example/CodeSystem/…`) for data dictionary items that have no published
 * FHIR CodeSystem (RTT period status, clinical priority, priority type, attendance type, social
 * care service types, ambulance response category and outcome). Each of those is the data
 * dictionary's (or the named national collection's) own code list, copied, with our system URL.
 *
 * Every code object is frozen and shared by every record that uses it (history.ts builds tens of
 * millions of records): nothing downstream may mutate a `coding` or a concept.
 *
 * Provenance of the codes (checked against public copies where this file says "checked"):
 * - SNOMED CT concepts are from the UK edition (international concepts plus the UK extension,
 *   ids ending in …1000000…). Checked: eGFR 1011481000000105 and HbA1c 1049301000000100 /
 *   999791000000106 (NHS PCD refset IFCCHBAM_COD), vaccination procedures 822851000000102,
 *   1324681000000101, 1324691000000104, 1362591000000103 (NHS England Immunisation FHIR API),
 *   761841000, 871874000, 866186002 (NHS "Manage vaccinations in schools"), the referral source
 *   108161000000109 (UK Core SourceOfServiceRequest), frailty 925791000000100 / 925831000000107 /
 *   925861000000102 (PCD MILDFRAIL_COD, MODFRAIL_COD, SEVFRAIL_COD).
 * - dm+d ids are VMP (virtual medicinal product) ids, which are SNOMED CT UK drug extension
 *   concepts, so they are written with the dm+d system and are also valid SNOMED codes. Checked:
 *   amlodipine 5 mg 319283006, ramipril 5 mg 318902004, losartan 50 mg 318956006, bisoprolol
 *   5 mg 318590006, furosemide 40 mg 317972000, empagliflozin 10 mg 703896005, metformin 500 mg
 *   325278007, salbutamol CFC-free inhaler 39113611000001102 (its previous id was 320139002),
 *   Fluenz Tetra 22704311000001104 (an AMP). NOT yet checked against a public copy (our best
 *   knowledge of the dm+d release; re-check against a TRUD dm+d release before real use):
 *   indapamide, atorvastatin 20/80 mg, aspirin, clopidogrel, apixaban, gliclazide, insulin
 *   glargine, beclometasone, tiotropium, sertraline, citalopram, olanzapine, lithium, donepezil,
 *   levetiracetam, lamotrigine, alendronic acid, calcium/colecalciferol, letrozole, tamsulosin.
 * - Allergy concepts: checked against NHS Digital's GP Connect demonstrator (amoxicillin allergy
 *   294505008, salicylate allergy 293585002, allergy to peanuts 91935009, anaphylaxis 39579001) and
 *   Te Whatu Ora's shared digital health record examples (allergy to penicillin 91936005). NOT yet
 *   checked: the reactions eruption of skin 271807003, urticaria 126485001, angioedema 41291007
 *   and wheezing 56018004 (our best knowledge; re-check against a UK edition release).
 * - Care team roles (SNOMED CT occupations 768820003, 80584001, 158997000, 62247001, 106328005):
 *   checked against HL7 Da Vinci's NUCC-to-SNOMED care team member function ConceptMap and HL7
 *   CareTeam examples. Care plan categories (734163000, 736373009, 736366004, 2181441000000107):
 *   checked against NHS England's National Record Locator pointer types. Next-of-kin
 *   relationships (v3 RoleCode HUSB, WIFE, DOMPART, MTH, FTH, SONC, DAUC, FAMMEMB; v2-0131 N):
 *   checked against UK Core's PersonRelationshipType expansion.
 * - ICD-10 (WHO 5th edition, as HES uses it) and OPCS-4.10 codes are written with the dot.
 */
import type { CodeableConcept, Coding, Dosage, Extension, Quantity } from '@medplum/fhirtypes';
import { type ConditionKey, DMD, ICD10, OPCS4, SNOMED, type Sex } from './model.js';

// ---------------------------------------------------------------------------------------------
// Code systems

export const UCUM = 'http://unitsofmeasure.org';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const MEDICATION_REQUEST_CATEGORY = 'http://terminology.hl7.org/CodeSystem/medicationrequest-category';
export const COURSE_OF_THERAPY = 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy';
export const DISCHARGE_DISPOSITION = 'http://terminology.hl7.org/CodeSystem/discharge-disposition';
export const DIAGNOSIS_ROLE = 'http://terminology.hl7.org/CodeSystem/diagnosis-role';

/** UK Core CodeSystems (HL7 UK) copying NHS data dictionary lists. */
export const UKCORE_ADMISSION_METHOD = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland';
export const UKCORE_SOURCE_OF_ADMISSION = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SourceOfAdmissionEngland';
export const UKCORE_DISCHARGE_DESTINATION = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland';
export const UKCORE_DISCHARGE_METHOD = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland';
/** NHS England's CodeSystem for the data dictionary's TREATMENT FUNCTION CODE. */
export const TREATMENT_FUNCTION = 'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function';

/** UK Core extensions the records carry. */
export const EXT_ADMISSION_METHOD = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod';
export const EXT_DISCHARGE_METHOD = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod';
export const EXT_VACCINATION_PROCEDURE = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure';
export const EXT_SOURCE_OF_SERVICE_REQUEST = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-SourceOfServiceRequest';
export const EXT_REPEAT_INFORMATION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation';

/**
 * OpenICS's own CodeSystems and extensions, for NHS data dictionary items with no published FHIR
 * CodeSystem. The codes are the data dictionary's; only the system URL is ours.
 */
export const OPENICS_CODESYSTEM = 'https://fhir.openics.example/CodeSystem/';
export const RTT_PERIOD_STATUS = `${OPENICS_CODESYSTEM}rtt-period-status`;
export const CLINICAL_PRIORITY = `${OPENICS_CODESYSTEM}clinical-priority`;
export const PRIORITY_TYPE = `${OPENICS_CODESYSTEM}priority-type`;
export const ATTENDANCE_TYPE = `${OPENICS_CODESYSTEM}first-attendance`;
export const SOURCE_OF_REFERRAL = `${OPENICS_CODESYSTEM}source-of-referral-for-outpatients`;
export const CARE_SERVICE = `${OPENICS_CODESYSTEM}care-service`;
export const ASC_SERVICE_TYPE = `${OPENICS_CODESYSTEM}asc-service-type`;
export const ASC_ACTIVITY = `${OPENICS_CODESYSTEM}asc-activity`;
export const AMBULANCE_CATEGORY = `${OPENICS_CODESYSTEM}ambulance-response-category`;
export const AMBULANCE_OUTCOME = `${OPENICS_CODESYSTEM}ambulance-incident-outcome`;
export const OPENICS_EXTENSION = 'https://fhir.openics.example/StructureDefinition/';
/** On an EpisodeOfCare (RTT pathway) and each of its Encounters: the RTT period status (valueCodeableConcept). */
export const EXT_RTT_PERIOD_STATUS = `${OPENICS_EXTENSION}rtt-period-status`;
/** On an RTT pathway: the clinical priority P-code given at the decision to admit (valueCodeableConcept). */
export const EXT_CLINICAL_PRIORITY = `${OPENICS_EXTENSION}clinical-priority`;
/** On a referral (ServiceRequest): the data dictionary PRIORITY TYPE (valueCodeableConcept). */
export const EXT_PRIORITY_TYPE = `${OPENICS_EXTENSION}priority-type`;
/** The Patient Pathway Identifier (PPID), unique only with its issuer (the trust). */
export const PPID_SYSTEM = 'https://fhir.openics.example/Id/patient-pathway-identifier';
/** The NHS e-Referral Service Unique Booking Reference Number. */
export const UBRN_SYSTEM = 'https://fhir.nhs.uk/Id/UBRN';

// ---------------------------------------------------------------------------------------------
// Builders (used only here, at load time)

function coding(system: string, code: string, display: string): Coding {
  return Object.freeze({ system, code, display });
}
function sct(code: string, display: string): Coding {
  return coding(SNOMED, code, display);
}
function icd(code: string, display: string): Coding {
  return coding(ICD10, code, display);
}
function opcs(code: string, display: string): Coding {
  return coding(OPCS4, code, display);
}
function dmd(code: string, display: string): Coding {
  return coding(DMD, code, display);
}
/** A frozen CodeableConcept of one or more codings. */
export function concept(...codings: Coding[]): CodeableConcept {
  return Object.freeze({ coding: Object.freeze(codings) }) as CodeableConcept;
}
function conceptText(text: string, ...codings: Coding[]): CodeableConcept {
  return Object.freeze(codings.length === 0 ? { text } : { coding: Object.freeze(codings), text }) as CodeableConcept;
}
function extension(url: string, valueCodeableConcept: CodeableConcept): Extension {
  return Object.freeze({ url, valueCodeableConcept });
}

// ---------------------------------------------------------------------------------------------
// FHIR core codes used everywhere

export const ENCOUNTER_CLASS = {
  ambulatory: coding(V3_ACT_CODE, 'AMB', 'ambulatory'),
  emergency: coding(V3_ACT_CODE, 'EMER', 'emergency'),
  inpatient: coding(V3_ACT_CODE, 'IMP', 'inpatient encounter'),
  homeHealth: coding(V3_ACT_CODE, 'HH', 'home health'),
  virtual: coding(V3_ACT_CODE, 'VR', 'virtual'),
  field: coding(V3_ACT_CODE, 'FLD', 'field'),
} as const;

export const CLINICAL_ACTIVE = concept(coding(CONDITION_CLINICAL, 'active', 'Active'));
export const CLINICAL_RESOLVED = concept(coding(CONDITION_CLINICAL, 'resolved', 'Resolved'));
export const VERIFICATION_CONFIRMED = concept(coding(CONDITION_VERIFICATION, 'confirmed', 'Confirmed'));
export const CATEGORY_PROBLEM = Object.freeze([concept(coding(CONDITION_CATEGORY, 'problem-list-item', 'Problem List Item'))]) as CodeableConcept[];
export const CATEGORY_DIAGNOSIS = Object.freeze([concept(coding(CONDITION_CATEGORY, 'encounter-diagnosis', 'Encounter Diagnosis'))]) as CodeableConcept[];
export const OBS_VITAL_SIGNS = Object.freeze([concept(coding(OBSERVATION_CATEGORY, 'vital-signs', 'Vital Signs'))]) as CodeableConcept[];
export const OBS_LABORATORY = Object.freeze([concept(coding(OBSERVATION_CATEGORY, 'laboratory', 'Laboratory'))]) as CodeableConcept[];
export const OBS_SOCIAL_HISTORY = Object.freeze([concept(coding(OBSERVATION_CATEGORY, 'social-history', 'Social History'))]) as CodeableConcept[];
export const OBS_EXAM = Object.freeze([concept(coding(OBSERVATION_CATEGORY, 'exam', 'Exam'))]) as CodeableConcept[];
export const MEDREQ_COMMUNITY = Object.freeze([concept(coding(MEDICATION_REQUEST_CATEGORY, 'community', 'Community'))]) as CodeableConcept[];

// ---------------------------------------------------------------------------------------------
// Allergies (AllergyIntolerance on the GP record; prevalence.ts ALLERGIES says who has which)

const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
export const ALLERGY_ACTIVE = concept(coding(ALLERGY_CLINICAL, 'active', 'Active'));
export const ALLERGY_CONFIRMED = concept(coding(ALLERGY_VERIFICATION, 'confirmed', 'Confirmed'));
export const ALLERGY_UNCONFIRMED = concept(coding(ALLERGY_VERIFICATION, 'unconfirmed', 'Unconfirmed'));

/** The allergy concepts as GP systems record them ("Allergy to X" findings and disorders). */
export const ALLERGY_CODES = {
  penicillin: concept(sct('91936005', 'Allergy to penicillin')),
  amoxicillin: concept(sct('294505008', 'Amoxicillin allergy')),
  salicylate: concept(sct('293585002', 'Salicylate allergy')),
  peanut: concept(sct('91935009', 'Allergy to peanuts')),
} as const;

/** Reactions (manifestations) recorded with a label. */
export const ALLERGY_REACTIONS = {
  rash: concept(sct('271807003', 'Eruption of skin')),
  urticaria: concept(sct('126485001', 'Urticaria')),
  angioedema: concept(sct('41291007', 'Angioedema')),
  wheeze: concept(sct('56018004', 'Wheezing')),
  anaphylaxis: concept(sct('39579001', 'Anaphylaxis')),
} as const;
export const COURSE_CONTINUOUS = concept(coding(COURSE_OF_THERAPY, 'continuous', 'Continuous long term therapy'));
export const DIAGNOSIS_PRIMARY = concept(coding(DIAGNOSIS_ROLE, 'DD', 'Discharge diagnosis'));
export const DIAGNOSIS_ADMISSION = concept(coding(DIAGNOSIS_ROLE, 'AD', 'Admission diagnosis'));

// ---------------------------------------------------------------------------------------------
// Long-term conditions: the GP problem-list code (SNOMED CT) and the matching hospital code
// (ICD-10). Conditions with clinically distinct forms have variants with weights (the share of
// the condition's patients with that form); `minAge`/`maxAge` bound the onset age at which a
// variant applies and `sex` restricts it.

export interface ConditionVariant {
  /** Short name used by history.ts for the variant's own rules (e.g. 't1' for type 1 diabetes). */
  readonly name: string;
  readonly snomed: Coding;
  readonly icd10: Coding;
  /** The GP problem-list concept (SNOMED only) and the hospital concept (ICD-10 and SNOMED). */
  readonly gp: CodeableConcept;
  readonly hospital: CodeableConcept;
  readonly weight: number;
  readonly sex?: Sex;
  readonly maxOnsetAge?: number;
}

function variant(name: string, snomed: Coding, icd10: Coding, weight: number, extra: { sex?: Sex; maxOnsetAge?: number } = {}): ConditionVariant {
  return Object.freeze({ name, snomed, icd10, gp: concept(snomed), hospital: concept(icd10, snomed), weight, ...extra });
}

export const CONDITION_VARIANTS: Readonly<Record<ConditionKey, readonly ConditionVariant[]>> = {
  hypertension: [variant('essential', sct('59621000', 'Essential hypertension'), icd('I10', 'Essential (primary) hypertension'), 1)],
  diabetes: [
    // About 8% of people with diabetes have type 1 (NHS Digital National Diabetes Audit 2021-22); it starts young.
    variant('t1', sct('46635009', 'Type 1 diabetes mellitus'), icd('E10.9', 'Type 1 diabetes mellitus without complications'), 0.08, { maxOnsetAge: 35 }),
    variant('t2', sct('44054006', 'Type 2 diabetes mellitus'), icd('E11.9', 'Type 2 diabetes mellitus without complications'), 0.92),
  ],
  asthma: [variant('asthma', sct('195967001', 'Asthma'), icd('J45.9', 'Asthma, unspecified'), 1)],
  copd: [variant('copd', sct('13645005', 'Chronic obstructive lung disease'), icd('J44.9', 'Chronic obstructive pulmonary disease, unspecified'), 1)],
  chd: [
    variant('ihd', sct('414545008', 'Ischaemic heart disease'), icd('I25.9', 'Chronic ischaemic heart disease, unspecified'), 0.6),
    variant('angina', sct('194828000', 'Angina'), icd('I20.9', 'Angina pectoris, unspecified'), 0.25),
    variant('old-mi', sct('22298006', 'Myocardial infarction'), icd('I25.2', 'Old myocardial infarction'), 0.15),
  ],
  heart_failure: [variant('hf', sct('84114007', 'Heart failure'), icd('I50.9', 'Heart failure, unspecified'), 1)],
  atrial_fibrillation: [variant('af', sct('49436004', 'Atrial fibrillation'), icd('I48.9', 'Atrial fibrillation and atrial flutter, unspecified'), 1)],
  stroke_tia: [
    variant('stroke', sct('230690007', 'Cerebrovascular accident'), icd('I64', 'Stroke, not specified as haemorrhage or infarction'), 0.65),
    variant('tia', sct('266257000', 'Transient ischaemic attack'), icd('G45.9', 'Transient cerebral ischaemic attack, unspecified'), 0.35),
  ],
  ckd: [
    // QOF CKD is stages 3-5; stage 3a is the large majority (Hirst et al., Br J Gen Pract 2020).
    variant('3a', sct('700378005', 'Chronic kidney disease stage 3A'), icd('N18.3', 'Chronic kidney disease, stage 3'), 0.68),
    variant('3b', sct('700379002', 'Chronic kidney disease stage 3B'), icd('N18.3', 'Chronic kidney disease, stage 3'), 0.25),
    variant('4', sct('431857002', 'Chronic kidney disease stage 4'), icd('N18.4', 'Chronic kidney disease, stage 4'), 0.07),
  ],
  dementia: [
    variant('alzheimers', sct('26929004', "Alzheimer's disease"), icd('G30.9', "Alzheimer's disease, unspecified"), 0.6),
    variant('vascular', sct('429998004', 'Vascular dementia'), icd('F01.9', 'Vascular dementia, unspecified'), 0.2),
    variant('unspecified', sct('52448006', 'Dementia'), icd('F03', 'Unspecified dementia'), 0.2),
  ],
  depression: [variant('depression', sct('35489007', 'Depressive disorder'), icd('F32.9', 'Depressive episode, unspecified'), 1)],
  smi: [
    variant('schizophrenia', sct('58214004', 'Schizophrenia'), icd('F20.9', 'Schizophrenia, unspecified'), 0.45),
    variant('bipolar', sct('13746004', 'Bipolar disorder'), icd('F31.9', 'Bipolar affective disorder, unspecified'), 0.45),
    variant('psychosis', sct('69322001', 'Psychotic disorder'), icd('F29', 'Unspecified nonorganic psychosis'), 0.1),
  ],
  cancer: [
    // Shares of prevalent cancers in England (Macmillan/NHS Digital cancer prevalence, 2020s).
    variant('breast', sct('254837009', 'Malignant neoplasm of breast'), icd('C50.9', 'Malignant neoplasm: Breast, unspecified'), 0.3, { sex: 'female' }),
    variant('prostate', sct('399068003', 'Malignant tumour of prostate'), icd('C61', 'Malignant neoplasm of prostate'), 0.25, { sex: 'male' }),
    variant('colorectal', sct('363406005', 'Malignant neoplasm of colon'), icd('C18.9', 'Malignant neoplasm: Colon, unspecified'), 0.15),
    variant('lung', sct('363358000', 'Malignant tumour of lung'), icd('C34.9', 'Malignant neoplasm: Bronchus or lung, unspecified'), 0.06),
    variant('melanoma', sct('372244006', 'Malignant melanoma'), icd('C43.9', 'Malignant melanoma of skin, unspecified'), 0.1),
    variant('bladder', sct('399326009', 'Malignant tumour of urinary bladder'), icd('C67.9', 'Malignant neoplasm: Bladder, unspecified'), 0.05),
  ],
  epilepsy: [variant('epilepsy', sct('84757009', 'Epilepsy'), icd('G40.9', 'Epilepsy, unspecified'), 1)],
  learning_disability: [variant('ld', sct('110359009', 'Intellectual disability'), icd('F79', 'Unspecified mental retardation'), 1)],
  osteoporosis: [variant('osteoporosis', sct('64859006', 'Osteoporosis'), icd('M81.9', 'Osteoporosis, unspecified'), 1)],
  obesity: [variant('obesity', sct('414916001', 'Obesity'), icd('E66.9', 'Obesity, unspecified'), 1)],
};

/** Pregnancy and delivery (mothers) and birth (babies). */
export const PREGNANCY = concept(sct('77386006', 'Pregnancy'));
export const DELIVERY_DIAGNOSIS = {
  normal: concept(icd('O80.9', 'Single spontaneous delivery, unspecified'), sct('48782003', 'Delivery normal')),
  caesarean: concept(icd('O82.9', 'Delivery by caesarean section, unspecified'), sct('11466000', 'Caesarean section')),
  liveBirth: concept(icd('Z37.0', 'Single live birth'), sct('281050002', 'Livebirth')),
  newborn: concept(icd('Z38.0', 'Singleton, born in hospital'), sct('281050002', 'Livebirth')),
} as const;

// ---------------------------------------------------------------------------------------------
// Smoking and frailty findings (GP record)

export const SMOKING_FINDING = {
  never: concept(sct('266919005', 'Never smoked tobacco')),
  ex: concept(sct('8517006', 'Ex-smoker')),
  current: concept(sct('77176002', 'Smoker')),
} as const;

/** eFI frailty categories as coded (NHS PCD refset clusters MILDFRAIL_COD, MODFRAIL_COD, SEVFRAIL_COD). */
export const FRAILTY_FINDING = {
  mild: concept(sct('925791000000100', 'Mild frailty')),
  moderate: concept(sct('925831000000107', 'Moderate frailty')),
  severe: concept(sct('925861000000102', 'Severe frailty')),
} as const;

// ---------------------------------------------------------------------------------------------
// Observations (SNOMED observable entities, UCUM units)

export interface ObservationCode {
  readonly code: CodeableConcept;
  readonly unit: string;
  readonly ucum: string;
}
function observable(code: string, display: string, unit: string, ucum: string): ObservationCode {
  return Object.freeze({ code: concept(sct(code, display)), unit, ucum });
}

export const OBSERVATIONS = {
  bloodPressure: observable('75367002', 'Blood pressure', 'mmHg', 'mm[Hg]'),
  systolic: observable('271649006', 'Systolic blood pressure', 'mmHg', 'mm[Hg]'),
  diastolic: observable('271650006', 'Diastolic blood pressure', 'mmHg', 'mm[Hg]'),
  hba1c: observable(
    '1049301000000100',
    'Haemoglobin A1c level (diagnostic reference range) - International Federation of Clinical Chemistry and Laboratory Medicine standardised',
    'mmol/mol',
    'mmol/mol',
  ),
  egfr: observable(
    '1011481000000105',
    'eGFR (estimated glomerular filtration rate) using creatinine Chronic Kidney Disease Epidemiology Collaboration equation per 1.73 square metres',
    'mL/min/1.73m2',
    'mL/min/{1.73_m2}',
  ),
  bmi: observable('60621009', 'Body mass index', 'kg/m2', 'kg/m2'),
  weight: observable('27113001', 'Body weight', 'kg', 'kg'),
  height: observable('50373000', 'Body height', 'cm', 'cm'),
} as const;

// ---------------------------------------------------------------------------------------------
// Repeat medicines (dm+d VMPs) by condition

export interface Medicine {
  readonly key: string;
  readonly code: CodeableConcept;
  readonly dosage: string;
  /** Quantity supplied per 28-day issue, and its unit (the dm+d unit of measure, as text). */
  readonly quantity: number;
  readonly unit: string;
  /** Shared, frozen parts of every MedicationRequest for this medicine. */
  readonly dosageInstruction: Dosage[];
  readonly supplyQuantity: Quantity;
}
function medicine(key: string, code: string, display: string, dosage: string, quantity: number, unit: string): Medicine {
  return Object.freeze({
    key,
    code: concept(dmd(code, display)),
    dosage,
    quantity,
    unit,
    dosageInstruction: Object.freeze([Object.freeze({ text: dosage })]) as Dosage[],
    supplyQuantity: Object.freeze({ value: quantity, unit }),
  });
}

export const MEDICINES = {
  amlodipine: medicine('amlodipine', '319283006', 'Amlodipine 5mg tablets', 'One tablet once a day', 28, 'tablet'),
  ramipril: medicine('ramipril', '318902004', 'Ramipril 5mg capsules', 'One capsule once a day', 28, 'capsule'),
  indapamide: medicine('indapamide', '317919004', 'Indapamide 2.5mg tablets', 'One tablet each morning', 28, 'tablet'),
  losartan: medicine('losartan', '318956006', 'Losartan 50mg tablets', 'One tablet once a day', 28, 'tablet'),
  atorvastatin: medicine('atorvastatin', '320030006', 'Atorvastatin 20mg tablets', 'One tablet at night', 28, 'tablet'),
  atorvastatin80: medicine('atorvastatin80', '375119004', 'Atorvastatin 80mg tablets', 'One tablet at night', 28, 'tablet'),
  aspirin: medicine('aspirin', '319770009', 'Aspirin 75mg dispersible tablets', 'One tablet once a day', 28, 'tablet'),
  clopidogrel: medicine('clopidogrel', '408174009', 'Clopidogrel 75mg tablets', 'One tablet once a day', 28, 'tablet'),
  bisoprolol: medicine('bisoprolol', '318590006', 'Bisoprolol 5mg tablets', 'One tablet once a day', 28, 'tablet'),
  furosemide: medicine('furosemide', '317972000', 'Furosemide 40mg tablets', 'One tablet each morning', 28, 'tablet'),
  apixaban: medicine('apixaban', '703907004', 'Apixaban 5mg tablets', 'One tablet twice a day', 56, 'tablet'),
  metformin: medicine('metformin', '325278007', 'Metformin 500mg tablets', 'One tablet twice a day with food', 56, 'tablet'),
  gliclazide: medicine('gliclazide', '325238005', 'Gliclazide 80mg tablets', 'One tablet twice a day with food', 56, 'tablet'),
  empagliflozin: medicine('empagliflozin', '703896005', 'Empagliflozin 10mg tablets', 'One tablet once a day', 28, 'tablet'),
  insulinGlargine: medicine(
    'insulinGlargine',
    '411531001',
    'Insulin glargine 100units/ml solution for injection 3ml pre-filled disposable devices',
    'Inject as directed once a day',
    5,
    'pre-filled disposable injection',
  ),
  salbutamol: medicine('salbutamol', '39113611000001102', 'Salbutamol 100micrograms/dose inhaler CFC free', 'Two puffs when required', 1, 'inhaler'),
  beclometasone: medicine(
    'beclometasone',
    '39112711000001103',
    'Beclometasone 100micrograms/dose inhaler CFC free',
    'Two puffs twice a day',
    1,
    'inhaler',
  ),
  tiotropium: medicine(
    'tiotropium',
    '407914000',
    'Tiotropium 18microgram inhalation powder capsules',
    'Inhale the contents of one capsule once a day',
    30,
    'capsule',
  ),
  sertraline: medicine('sertraline', '321949006', 'Sertraline 50mg tablets', 'One tablet once a day', 28, 'tablet'),
  citalopram: medicine('citalopram', '321987003', 'Citalopram 20mg tablets', 'One tablet once a day', 28, 'tablet'),
  olanzapine: medicine('olanzapine', '322044004', 'Olanzapine 10mg tablets', 'One tablet at night', 28, 'tablet'),
  lithium: medicine('lithium', '321608003', 'Lithium carbonate 400mg modified-release tablets', 'One tablet at night', 28, 'tablet'),
  donepezil: medicine('donepezil', '321713007', 'Donepezil 10mg tablets', 'One tablet at night', 28, 'tablet'),
  levetiracetam: medicine('levetiracetam', '407908003', 'Levetiracetam 500mg tablets', 'One tablet twice a day', 56, 'tablet'),
  lamotrigine: medicine('lamotrigine', '322793004', 'Lamotrigine 100mg tablets', 'One tablet twice a day', 56, 'tablet'),
  alendronicAcid: medicine('alendronicAcid', '134573001', 'Alendronic acid 70mg tablets', 'One tablet once a week before breakfast', 4, 'tablet'),
  calciumColecalciferol: medicine(
    'calciumColecalciferol',
    '444753002',
    'Calcium carbonate 1.5g / Colecalciferol 10micrograms chewable tablets',
    'One tablet twice a day',
    56,
    'tablet',
  ),
  letrozole: medicine('letrozole', '386911004', 'Letrozole 2.5mg tablets', 'One tablet once a day', 28, 'tablet'),
  tamsulosin: medicine('tamsulosin', '317817000', 'Tamsulosin 400microgram modified-release capsules', 'One capsule once a day', 28, 'capsule'),
} as const;

export type MedicineKey = keyof typeof MEDICINES;

// ---------------------------------------------------------------------------------------------
// Immunisations: the vaccine product (vaccineCode) and the vaccination procedure (UK Core
// VaccinationProcedure extension), as NHS England's Immunisation FHIR API and GP systems record them.
// Where we could not check a product code, vaccineCode carries the product's name as text only.
// Not generated: the infant 6-in-1 (DTaP/IPV/Hib/HepB), rotavirus and Hib/MenC doses, whose UK
// procedure concepts we could not check against a public copy.

export interface Vaccine {
  readonly key: string;
  readonly vaccineCode: CodeableConcept;
  readonly procedure: Extension;
  readonly targetDisease: CodeableConcept[];
}
function vaccine(key: string, vaccineCode: CodeableConcept, procedure: Coding, disease: Coding): Vaccine {
  return Object.freeze({
    key,
    vaccineCode,
    procedure: extension(EXT_VACCINATION_PROCEDURE, concept(procedure)),
    targetDisease: Object.freeze([concept(disease)]) as CodeableConcept[],
  });
}
const INFLUENZA = sct('6142004', 'Influenza');
const COVID19 = sct('840539006', 'Disease caused by severe acute respiratory syndrome coronavirus 2');
const FLU_PROCEDURE = sct('822851000000102', 'Seasonal influenza vaccination');

export const VACCINES = {
  flu: vaccine('flu', concept(sct('1181000221105', 'Influenza virus antigen only vaccine product')), FLU_PROCEDURE, INFLUENZA),
  fluNasal: vaccine(
    'fluNasal',
    concept(sct('22704311000001104', 'Fluenz Tetra vaccine nasal suspension 0.2ml unit dose (AstraZeneca UK Ltd)')),
    FLU_PROCEDURE,
    INFLUENZA,
  ),
  covidFirst: vaccine(
    'covidFirst',
    concept(sct('1119349007', 'Severe acute respiratory syndrome coronavirus 2 messenger ribonucleic acid only vaccine product')),
    sct('1324681000000101', 'Administration of first dose of severe acute respiratory syndrome coronavirus 2 vaccine'),
    COVID19,
  ),
  covidSecond: vaccine(
    'covidSecond',
    concept(sct('1119349007', 'Severe acute respiratory syndrome coronavirus 2 messenger ribonucleic acid only vaccine product')),
    sct('1324691000000104', 'Administration of second dose of severe acute respiratory syndrome coronavirus 2 vaccine'),
    COVID19,
  ),
  covidBooster: vaccine(
    'covidBooster',
    concept(sct('1119349007', 'Severe acute respiratory syndrome coronavirus 2 messenger ribonucleic acid only vaccine product')),
    sct('1362591000000103', 'Immunisation course to maintain protection against severe acute respiratory syndrome coronavirus 2'),
    COVID19,
  ),
  pneumococcal: vaccine(
    'pneumococcal',
    concept(sct('836398006', 'Streptococcus pneumoniae antigen-containing vaccine product')),
    sct('12866006', 'Pneumococcal vaccination'),
    sct('16814004', 'Pneumococcal infectious disease'),
  ),
  shingles: vaccine(
    'shingles',
    conceptText('Shingrix (herpes zoster recombinant adjuvanted vaccine)'),
    sct('722215002', 'Administration of vaccine product containing only Human alphaherpesvirus 3 antigen for shingles'),
    sct('4740000', 'Herpes zoster'),
  ),
  shinglesLive: vaccine(
    'shinglesLive',
    concept(sct('2221000221107', 'Live attenuated Human alphaherpesvirus 3 only vaccine product')),
    sct('722215002', 'Administration of vaccine product containing only Human alphaherpesvirus 3 antigen for shingles'),
    sct('4740000', 'Herpes zoster'),
  ),
  pcvInfant: vaccine(
    'pcvInfant',
    concept(sct('836398006', 'Streptococcus pneumoniae antigen-containing vaccine product')),
    sct('12866006', 'Pneumococcal vaccination'),
    sct('16814004', 'Pneumococcal infectious disease'),
  ),
  menB: vaccine(
    'menB',
    conceptText('Meningococcal group B vaccine'),
    sct('41088001', 'Meningococcus vaccination'),
    sct('23511006', 'Meningococcal infectious disease'),
  ),
  mmr: vaccine(
    'mmr',
    concept(sct('871878002', 'Measles and mumps and rubella antigens only vaccine product')),
    sct('38598009', 'Administration of vaccine product containing only Measles morbillivirus and Mumps orthorubulavirus and Rubella virus antigens'),
    sct('14189004', 'Measles'),
  ),
  hpv: vaccine(
    'hpv',
    conceptText('Human papillomavirus vaccine'),
    sct('761841000', 'Administration of vaccine product containing only Human papillomavirus antigen'),
    sct('240532009', 'Human papillomavirus infection'),
  ),
  menacwy: vaccine(
    'menacwy',
    conceptText('Meningococcal ACWY conjugate vaccine'),
    sct('871874000', 'Administration of vaccine product containing only Neisseria meningitidis serogroup A, C, W135 and Y antigens'),
    sct('23511006', 'Meningococcal infectious disease'),
  ),
  tdIpv: vaccine(
    'tdIpv',
    conceptText('Tetanus, diphtheria and poliomyelitis vaccine'),
    sct('866186002', 'Administration of vaccine product containing only Clostridium tetani and Corynebacterium diphtheriae and Human poliovirus antigens'),
    sct('76902006', 'Tetanus'),
  ),
} as const;

// ---------------------------------------------------------------------------------------------
// Encounter types

export const ENCOUNTER_TYPE = {
  gpConsultation: Object.freeze([concept(sct('11429006', 'Consultation'))]) as CodeableConcept[],
  gpTelephone: Object.freeze([concept(sct('185317003', 'Telephone encounter'))]) as CodeableConcept[],
  emergencyDepartment: Object.freeze([concept(sct('4525004', 'Emergency department patient visit'))]) as CodeableConcept[],
  hospitalAdmission: Object.freeze([concept(sct('32485007', 'Hospital admission'))]) as CodeableConcept[],
  homeVisit: Object.freeze([concept(sct('439708006', 'Home visit'))]) as CodeableConcept[],
  antenatal: Object.freeze([concept(sct('424441002', 'Prenatal initial visit'))]) as CodeableConcept[],
  antenatalFollowUp: Object.freeze([concept(sct('424619006', 'Prenatal visit'))]) as CodeableConcept[],
  ambulance: Object.freeze([concept(sct('409971007', 'Emergency medical services'))]) as CodeableConcept[],
  firstAttendance: Object.freeze([concept(coding(ATTENDANCE_TYPE, '1', 'First attendance face to face'))]) as CodeableConcept[],
  followUpAttendance: Object.freeze([concept(coding(ATTENDANCE_TYPE, '2', 'Follow-up attendance face to face'))]) as CodeableConcept[],
  followUpTelephone: Object.freeze([concept(coding(ATTENDANCE_TYPE, '4', 'Follow-up attendance telephone or telemedicine'))]) as CodeableConcept[],
} as const;

// ---------------------------------------------------------------------------------------------
// Hospital admissions and discharges (NHS data dictionary via UK Core)

export const ADMISSION_METHOD = {
  waitingList: extension(EXT_ADMISSION_METHOD, concept(coding(UKCORE_ADMISSION_METHOD, '11', 'Elective Admission: Waiting list'))),
  emergencyED: extension(
    EXT_ADMISSION_METHOD,
    concept(coding(UKCORE_ADMISSION_METHOD, '21', 'Emergency Admission: Emergency Care Department or dental casualty department of the Health Care Provider')),
  ),
  emergencyGP: extension(EXT_ADMISSION_METHOD, concept(coding(UKCORE_ADMISSION_METHOD, '22', 'Emergency Admission: General Practitioner: after a request for immediate admission has been made direct to a Hospital Provider, i.e. not through a Bed bureau, by a General Practitioner or deputy'))),
  maternityAntePartum: extension(EXT_ADMISSION_METHOD, concept(coding(UKCORE_ADMISSION_METHOD, '31', 'Maternity Admission: Admitted ante partum'))),
  birth: extension(EXT_ADMISSION_METHOD, concept(coding(UKCORE_ADMISSION_METHOD, '82', 'Other Admission: The birth of a baby in this Health Care Provider'))),
} as const;

export const ADMIT_SOURCE_HOME = concept(
  coding(UKCORE_SOURCE_OF_ADMISSION, '19', 'Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes Patients with no fixed abode.'),
);
export const ADMIT_SOURCE_BIRTH = concept(coding(UKCORE_SOURCE_OF_ADMISSION, '79', 'Babies born in or on the way to hospital'));

/** Where an inpatient went at discharge: data dictionary destination plus the base FHIR disposition. */
export const DISCHARGE = {
  home: concept(
    coding(UKCORE_DISCHARGE_DESTINATION, '19', 'Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes patients with no fixed abode.'),
    coding(DISCHARGE_DISPOSITION, 'home', 'Home'),
  ),
  careHome: concept(
    coding(UKCORE_DISCHARGE_DESTINATION, '85', 'Non-NHS (other than Local Authority) run Care Home'),
    coding(DISCHARGE_DISPOSITION, 'snf', 'Skilled nursing facility'),
  ),
  died: concept(coding(UKCORE_DISCHARGE_DESTINATION, '79', 'Not applicable - Patient died or stillbirth'), coding(DISCHARGE_DISPOSITION, 'exp', 'Expired')),
} as const;
export const DISCHARGE_METHOD = {
  clinical: extension(EXT_DISCHARGE_METHOD, concept(coding(UKCORE_DISCHARGE_METHOD, '1', 'Patient discharged on clinical advice or with clinical consent'))),
  died: extension(EXT_DISCHARGE_METHOD, concept(coding(UKCORE_DISCHARGE_METHOD, '4', 'Patient died'))),
} as const;

/** Emergency department outcome (ECDS discharge destination, SNOMED CT). */
export const ED_DISPOSAL = {
  home: concept(sct('306689006', 'Discharge to home')),
  ward: concept(sct('306706006', 'Discharge to ward')),
} as const;

// ---------------------------------------------------------------------------------------------
// Emergency department chief complaints and diagnoses (ECDS, SNOMED CT)

export interface EdPresentation {
  readonly complaint: CodeableConcept[];
  readonly diagnosis: CodeableConcept;
  /** Relative weights by age band: child (0-15), adult (16-64), older (65+). */
  readonly weights: readonly [number, number, number];
}
function ed(complaint: Coding, diagnosis: Coding, weights: [number, number, number]): EdPresentation {
  return Object.freeze({ complaint: Object.freeze([concept(complaint)]) as CodeableConcept[], diagnosis: concept(diagnosis), weights });
}
export const ED_PRESENTATIONS: readonly EdPresentation[] = Object.freeze([
  ed(sct('125605004', 'Fracture of bone'), sct('125605004', 'Fracture of bone'), [8, 5, 7]),
  ed(sct('44465007', 'Sprain'), sct('44465007', 'Sprain'), [10, 9, 2]),
  ed(sct('312608009', 'Laceration - injury'), sct('312608009', 'Laceration - injury'), [8, 6, 4]),
  ed(sct('82271004', 'Injury of head'), sct('82271004', 'Injury of head'), [9, 4, 5]),
  ed(sct('1912002', 'Fall'), sct('125667009', 'Contusion'), [3, 3, 12]),
  ed(sct('29857009', 'Chest pain'), sct('29857009', 'Chest pain'), [1, 9, 8]),
  ed(sct('21522001', 'Abdominal pain'), sct('21522001', 'Abdominal pain'), [5, 10, 6]),
  ed(sct('267036007', 'Dyspnoea'), sct('267036007', 'Dyspnoea'), [4, 4, 9]),
  ed(sct('386661006', 'Fever'), sct('34014006', 'Viral disease'), [12, 3, 2]),
  ed(sct('422400008', 'Vomiting'), sct('25374005', 'Gastroenteritis'), [8, 3, 2]),
  ed(sct('49727002', 'Cough'), sct('54150009', 'Upper respiratory infection'), [7, 2, 2]),
  ed(sct('25064002', 'Headache'), sct('25064002', 'Headache'), [2, 5, 2]),
  ed(sct('161891005', 'Backache'), sct('161891005', 'Backache'), [0.5, 5, 3]),
  ed(sct('80313002', 'Palpitations'), sct('80313002', 'Palpitations'), [0.5, 3, 3]),
  ed(sct('404640003', 'Dizziness'), sct('404640003', 'Dizziness'), [0.5, 3, 4]),
  ed(sct('286933003', 'Confusional state'), sct('2776000', 'Delirium'), [0.2, 0.5, 5]),
  ed(sct('91175000', 'Seizure'), sct('91175000', 'Seizure'), [2, 1.5, 1]),
  ed(sct('271807003', 'Eruption of skin'), sct('271807003', 'Eruption of skin'), [4, 2, 1]),
  ed(sct('48694002', 'Anxiety'), sct('48694002', 'Anxiety'), [1, 3, 0.5]),
  ed(sct('49650001', 'Dysuria'), sct('68566005', 'Urinary tract infectious disease'), [1, 2, 3]),
]);

// ---------------------------------------------------------------------------------------------
// Emergency admissions: primary diagnosis (ICD-10 as coded, with the SNOMED concept), the ED
// chief complaint it presents with, and a procedure (OPCS-4) for some.

export interface AdmissionReason {
  readonly key: string;
  readonly diagnosis: CodeableConcept;
  readonly complaint: CodeableConcept[];
  /** Relative weights: child (0-15), adult (16-64), older (65+), before condition adjustments. */
  readonly weights: readonly [number, number, number];
  /** Only residents with this condition are admitted for it. */
  readonly requires?: ConditionKey;
  /** Residents with this condition are more often admitted for it (× the factor). */
  readonly boostedBy?: readonly (readonly [ConditionKey, number])[];
  readonly procedure?: CodeableConcept;
  /** Mean length of stay in days (older patients stay longer: × 1.6 at 75+). */
  readonly meanStay: number;
}
function admission(
  key: string,
  diagnosis: [Coding, Coding],
  complaint: Coding,
  weights: [number, number, number],
  meanStay: number,
  extra: { requires?: ConditionKey; boostedBy?: (readonly [ConditionKey, number])[]; procedure?: CodeableConcept } = {},
): AdmissionReason {
  return Object.freeze({
    key,
    diagnosis: concept(diagnosis[0], diagnosis[1]),
    complaint: Object.freeze([concept(complaint)]) as CodeableConcept[],
    weights,
    meanStay,
    ...extra,
  });
}
export const OPCS_PROCEDURES = {
  hipHemiarthroplasty: concept(opcs('W46.1', 'Primary prosthetic replacement of head of femur using cement')),
  ctHead: concept(opcs('U05.1', 'Computed tomography of head')),
  appendicectomy: concept(opcs('H01.1', 'Emergency excision of abnormal appendix and drainage HFQ')),
  upperGiEndoscopy: concept(opcs('G45.9', 'Unspecified diagnostic fibreoptic endoscopic examination of upper gastrointestinal tract')),
  coronaryAngioplasty: concept(opcs('K75.1', 'Percutaneous transluminal balloon angioplasty and insertion of 1-2 drug-eluting stents into coronary artery')),
  normalDelivery: concept(opcs('R24.9', 'Unspecified normal delivery')),
  electiveCaesarean: concept(opcs('R17.9', 'Unspecified elective caesarean delivery')),
  emergencyCaesarean: concept(opcs('R18.9', 'Unspecified other caesarean delivery')),
} as const;

export const ADMISSION_REASONS: readonly AdmissionReason[] = Object.freeze([
  admission('pneumonia', [icd('J18.9', 'Pneumonia, unspecified'), sct('233604007', 'Pneumonia')], sct('267036007', 'Dyspnoea'), [6, 6, 16], 7),
  admission('copd', [icd('J44.1', 'Chronic obstructive pulmonary disease with acute exacerbation, unspecified'), sct('195951007', 'Acute exacerbation of chronic obstructive airways disease')], sct('267036007', 'Dyspnoea'), [0, 10, 12], 5, { requires: 'copd' }),
  admission('asthma', [icd('J45.9', 'Asthma, unspecified'), sct('195967001', 'Asthma')], sct('56018004', 'Wheezing'), [6, 3, 1], 2, { requires: 'asthma' }),
  admission('bronchiolitis', [icd('J21.9', 'Acute bronchiolitis, unspecified'), sct('4120002', 'Bronchiolitis')], sct('267036007', 'Dyspnoea'), [14, 0, 0], 2),
  admission('uri', [icd('J06.9', 'Acute upper respiratory infection, unspecified'), sct('54150009', 'Upper respiratory infection')], sct('386661006', 'Fever'), [14, 1, 1], 1),
  admission('heart-failure', [icd('I50.9', 'Heart failure, unspecified'), sct('84114007', 'Heart failure')], sct('267036007', 'Dyspnoea'), [0, 6, 14], 9, { requires: 'heart_failure' }),
  admission('uti', [icd('N39.0', 'Urinary tract infection, site not specified'), sct('68566005', 'Urinary tract infectious disease')], sct('286933003', 'Confusional state'), [3, 4, 12], 6),
  admission('hip-fracture', [icd('S72.0', 'Fracture of neck of femur'), sct('5913000', 'Fracture of neck of femur')], sct('1912002', 'Fall'), [0, 0.5, 7], 14, {
    boostedBy: [['osteoporosis', 3], ['dementia', 2]],
    procedure: OPCS_PROCEDURES.hipHemiarthroplasty,
  }),
  admission('stroke', [icd('I63.9', 'Cerebral infarction, unspecified'), sct('432504007', 'Cerebral infarction')], sct('26544005', 'Muscle weakness'), [0, 2, 6], 12, {
    boostedBy: [['atrial_fibrillation', 2.5], ['stroke_tia', 2], ['hypertension', 1.5]],
    procedure: OPCS_PROCEDURES.ctHead,
  }),
  admission('mi', [icd('I21.9', 'Acute myocardial infarction, unspecified'), sct('22298006', 'Myocardial infarction')], sct('29857009', 'Chest pain'), [0, 3, 4], 5, {
    boostedBy: [['chd', 4], ['diabetes', 1.5]],
    procedure: OPCS_PROCEDURES.coronaryAngioplasty,
  }),
  admission('chest-pain', [icd('R07.4', 'Chest pain, unspecified'), sct('29857009', 'Chest pain')], sct('29857009', 'Chest pain'), [1, 12, 6], 1, { boostedBy: [['chd', 2]] }),
  admission('af', [icd('I48.9', 'Atrial fibrillation and atrial flutter, unspecified'), sct('49436004', 'Atrial fibrillation')], sct('80313002', 'Palpitations'), [0, 2, 4], 3, { requires: 'atrial_fibrillation' }),
  admission('cellulitis', [icd('L03.9', 'Cellulitis, unspecified'), sct('128045006', 'Cellulitis')], sct('271807003', 'Eruption of skin'), [2, 4, 5], 5, { boostedBy: [['diabetes', 1.8], ['obesity', 1.5]] }),
  admission('sepsis', [icd('A41.9', 'Sepsis, unspecified'), sct('91302008', 'Sepsis')], sct('386661006', 'Fever'), [2, 2, 6], 9),
  admission('abdominal-pain', [icd('R10.4', 'Other and unspecified abdominal pain'), sct('21522001', 'Abdominal pain')], sct('21522001', 'Abdominal pain'), [5, 12, 5], 2),
  admission('appendicitis', [icd('K35.8', 'Acute appendicitis, other and unspecified'), sct('85189001', 'Acute appendicitis')], sct('21522001', 'Abdominal pain'), [6, 5, 0.5], 3, {
    procedure: OPCS_PROCEDURES.appendicectomy,
  }),
  admission('gi-bleed', [icd('K92.2', 'Gastrointestinal haemorrhage, unspecified'), sct('74474003', 'Gastrointestinal hemorrhage')], sct('422400008', 'Vomiting'), [0, 2, 4], 5, {
    procedure: OPCS_PROCEDURES.upperGiEndoscopy,
  }),
  admission('aki', [icd('N17.9', 'Acute renal failure, unspecified'), sct('14669001', 'Acute renal failure syndrome')], sct('271594007', 'Syncope'), [0, 1, 5], 8, { boostedBy: [['ckd', 3]] }),
  admission('syncope', [icd('R55', 'Syncope and collapse'), sct('271594007', 'Syncope')], sct('271594007', 'Syncope'), [1, 4, 7], 2),
  admission('delirium', [icd('F05.9', 'Delirium, unspecified'), sct('2776000', 'Delirium')], sct('286933003', 'Confusional state'), [0, 0.2, 3], 10, { boostedBy: [['dementia', 4]] }),
  admission('seizure', [icd('G40.9', 'Epilepsy, unspecified'), sct('84757009', 'Epilepsy')], sct('91175000', 'Seizure'), [2, 3, 1], 2, { requires: 'epilepsy' }),
  admission('dka', [icd('E10.1', 'Type 1 diabetes mellitus with ketoacidosis'), sct('420422005', 'Ketoacidosis due to diabetes mellitus')], sct('422400008', 'Vomiting'), [4, 4, 0.5], 3, { requires: 'diabetes' }),
  admission('covid', [icd('U07.1', 'COVID-19, virus identified'), sct('840539006', 'Disease caused by severe acute respiratory syndrome coronavirus 2')], sct('267036007', 'Dyspnoea'), [1, 2, 4], 7),
  admission('head-injury', [icd('S06.0', 'Concussion'), sct('82271004', 'Injury of head')], sct('1912002', 'Fall'), [4, 3, 3], 2, { procedure: OPCS_PROCEDURES.ctHead }),
  admission('self-harm', [icd('T39.1', 'Poisoning: 4-Aminophenol derivatives'), sct('55680006', 'Drug overdose')], sct('48694002', 'Anxiety'), [2, 4, 0.3], 2, {
    boostedBy: [['depression', 3], ['smi', 4]],
  }),
]);

// ---------------------------------------------------------------------------------------------
// Elective care: treatment functions (NHS data dictionary), the reasons GPs refer, and the
// procedures (OPCS-4) that treat admitted pathways.

export interface TreatmentFunction {
  readonly code: string;
  readonly coding: Coding;
  /** As Encounter.serviceType / ServiceRequest.code. */
  readonly concept: CodeableConcept;
  /** Share of England's RTT clock starts (relative weight). */
  readonly weight: number;
  /** Share of this function's pathways that end in an admitted (day case or inpatient) treatment. */
  readonly admittedShare: number;
  readonly reasons: readonly CodeableConcept[];
  readonly procedures: readonly CodeableConcept[];
  readonly sex?: Sex;
  readonly minAge?: number;
  readonly maxAge?: number;
}
function tf(
  code: string,
  display: string,
  weight: number,
  admittedShare: number,
  reasons: Coding[],
  procedures: CodeableConcept[],
  extra: { sex?: Sex; minAge?: number; maxAge?: number } = {},
): TreatmentFunction {
  const c = coding(TREATMENT_FUNCTION, code, display);
  return Object.freeze({
    code,
    coding: c,
    concept: concept(c),
    weight,
    admittedShare: procedures.length === 0 ? 0 : admittedShare,
    reasons: Object.freeze(reasons.map((r) => concept(r))),
    procedures: Object.freeze(procedures),
    ...extra,
  });
}

const HIP_REPLACEMENT = concept(opcs('W37.1', 'Primary total prosthetic replacement of hip joint using cement'));
const HIP_REPLACEMENT_UNCEMENTED = concept(opcs('W38.1', 'Primary total prosthetic replacement of hip joint not using cement'));
const KNEE_REPLACEMENT = concept(opcs('W40.1', 'Primary total prosthetic replacement of knee joint using cement'));
const KNEE_REPLACEMENT_UNCEMENTED = concept(opcs('W41.1', 'Primary total prosthetic replacement of knee joint not using cement'));
const CARPAL_TUNNEL = concept(opcs('A65.1', 'Carpal tunnel release'));
const CATARACT = concept(opcs('C71.2', 'Phacoemulsification of lens'), opcs('C75.1', 'Insertion of prosthetic replacement for lens NEC'));
const INGUINAL_HERNIA = concept(opcs('T20.2', 'Primary repair of inguinal hernia using insert of natural or artificial material'));
const CHOLECYSTECTOMY = concept(opcs('J18.3', 'Total cholecystectomy NEC'));
const COLONOSCOPY = concept(opcs('H22.9', 'Unspecified diagnostic endoscopic examination of colon'));
const CYSTOSCOPY = concept(opcs('M45.9', 'Unspecified diagnostic endoscopic examination of bladder'));
const TURP = concept(opcs('M65.3', 'Endoscopic resection of prostate NEC'));
const HYSTEROSCOPY = concept(opcs('Q18.9', 'Unspecified diagnostic endoscopic examination of uterus'));
const HYSTERECTOMY = concept(opcs('Q07.4', 'Total abdominal hysterectomy NEC'));
const GROMMETS = concept(opcs('D15.1', 'Myringotomy with insertion of ventilation tube through tympanic membrane'));
const TONSILLECTOMY = concept(opcs('F34.4', 'Bilateral dissection tonsillectomy'));
const SKIN_EXCISION = concept(opcs('S06.9', 'Unspecified other excision of lesion of skin'));

/** Weights approximate the treatment-function mix of England's RTT waiting list (NHS England RTT statistics, 2024-25). */
export const TREATMENT_FUNCTIONS: readonly TreatmentFunction[] = Object.freeze([
  tf('110', 'Trauma and Orthopaedics', 12, 0.3, [sct('239872002', 'Osteoarthritis of hip'), sct('239873007', 'Osteoarthritis of knee'), sct('57406009', 'Carpal tunnel syndrome')], [
    HIP_REPLACEMENT,
    HIP_REPLACEMENT_UNCEMENTED,
    KNEE_REPLACEMENT,
    KNEE_REPLACEMENT_UNCEMENTED,
    CARPAL_TUNNEL,
  ], { minAge: 18 }),
  tf('130', 'Ophthalmology', 10, 0.4, [sct('193570009', 'Cataract'), sct('23986001', 'Glaucoma')], [CATARACT], { minAge: 40 }),
  tf('120', 'Ear Nose and Throat', 7, 0.2, [sct('15188001', 'Hearing loss'), sct('90176007', 'Tonsillitis')], [GROMMETS, TONSILLECTOMY]),
  tf('100', 'General Surgery', 7, 0.45, [sct('396232000', 'Inguinal hernia'), sct('235919008', 'Calculus of gallbladder')], [INGUINAL_HERNIA, CHOLECYSTECTOMY], { minAge: 16 }),
  tf('502', 'Gynaecology', 8, 0.25, [sct('386692008', 'Menorrhagia'), sct('95315005', 'Uterine leiomyoma')], [HYSTEROSCOPY, HYSTERECTOMY], { sex: 'female', minAge: 16 }),
  tf('101', 'Urology', 5, 0.35, [sct('266569009', 'Benign prostatic hyperplasia'), sct('34436003', 'Blood in urine')], [CYSTOSCOPY, TURP], { minAge: 18 }),
  tf('301', 'Gastroenterology', 6, 0.35, [sct('162031009', 'Indigestion'), sct('88111009', 'Altered bowel function')], [COLONOSCOPY], { minAge: 16 }),
  tf('320', 'Cardiology', 5, 0, [sct('29857009', 'Chest pain'), sct('80313002', 'Palpitations')], [], { minAge: 18 }),
  tf('330', 'Dermatology', 6, 0.15, [sct('95324001', 'Skin lesion'), sct('43116000', 'Eczema')], [SKIN_EXCISION]),
  tf('340', 'Respiratory Medicine', 3, 0, [sct('267036007', 'Dyspnoea'), sct('68154008', 'Chronic cough')], [], { minAge: 16 }),
  tf('400', 'Neurology', 3, 0, [sct('25064002', 'Headache'), sct('91175000', 'Seizure')], [], { minAge: 16 }),
  tf('410', 'Rheumatology', 2, 0, [sct('57676002', 'Joint pain'), sct('69896004', 'Rheumatoid arthritis')], [], { minAge: 16 }),
  tf('300', 'General Internal Medicine', 3, 0, [sct('267036007', 'Dyspnoea'), sct('84229001', 'Fatigue')], [], { minAge: 16 }),
  tf('430', 'Geriatric Medicine', 2, 0, [sct('1912002', 'Fall'), sct('386806002', 'Impaired cognition')], [], { minAge: 75 }),
  tf('420', 'Paediatrics', 4, 0, [sct('386661006', 'Fever'), sct('21522001', 'Abdominal pain')], [], { maxAge: 15 }),
]);

/** Treatment functions of specialist follow-up clinics for long-term conditions and maternity. */
export const CLINIC_FUNCTIONS = {
  oncology: concept(coding(TREATMENT_FUNCTION, '800', 'Clinical Oncology')),
  nephrology: concept(coding(TREATMENT_FUNCTION, '361', 'Nephrology')),
  diabetes: concept(coding(TREATMENT_FUNCTION, '307', 'Diabetes')),
  cardiology: concept(coding(TREATMENT_FUNCTION, '320', 'Cardiology')),
  neurology: concept(coding(TREATMENT_FUNCTION, '400', 'Neurology')),
  respiratory: concept(coding(TREATMENT_FUNCTION, '340', 'Respiratory Medicine')),
  stroke: concept(coding(TREATMENT_FUNCTION, '328', 'Stroke Medicine')),
  rheumatology: concept(coding(TREATMENT_FUNCTION, '410', 'Rheumatology')),
  obstetrics: concept(coding(TREATMENT_FUNCTION, '501', 'Obstetrics')),
  wellBabies: concept(coding(TREATMENT_FUNCTION, '424', 'Well Babies')),
} as const;

// ---------------------------------------------------------------------------------------------
// RTT: period status (DSCN 18/2006; Recording and Reporting Guidance v5.0 Annex D), clinical
// priority (FSSA/RCS clinical prioritisation, 2020), priority type (CDS PRIORITY TYPE) and source
// of referral (data dictionary SOURCE OF REFERRAL FOR OUTPATIENTS).

export type RttStatusCode = '10' | '11' | '12' | '20' | '21' | '30' | '31' | '32' | '33' | '34' | '35' | '36' | '90' | '91' | '92' | '98' | '99';

export const RTT_STATUS_DISPLAY: Readonly<Record<RttStatusCode, string>> = {
  '10': 'First activity - first activity in a referral to treatment period',
  '11': 'Active monitoring end - start of a new referral to treatment period after active monitoring',
  '12': 'Consultant referral - referral to a different consultant for a separate condition',
  '20': 'Subsequent activity during a referral to treatment period',
  '21': 'Transfer to another health care provider',
  '30': 'Start of first definitive treatment',
  '31': 'Start of active monitoring initiated by the patient',
  '32': 'Start of active monitoring initiated by the care professional',
  '33': 'Did not attend the first appointment',
  '34': 'Decision not to treat',
  '35': 'Patient declined offered treatment',
  '36': 'Patient died before treatment',
  '90': 'After first definitive treatment',
  '91': 'During active monitoring',
  '92': 'Not yet referred for treatment (GP diagnostics)',
  '98': 'Not applicable',
  '99': 'Not yet known',
};
/** The national list, every code that may appear. */
export const RTT_STATUS_CODES: readonly RttStatusCode[] = Object.freeze(Object.keys(RTT_STATUS_DISPLAY) as RttStatusCode[]);
/** The codes that stop a clock. */
export const RTT_STOP_CODES: readonly RttStatusCode[] = Object.freeze(['30', '31', '32', '33', '34', '35', '36'] as RttStatusCode[]);

export const RTT_STATUS: Readonly<Record<RttStatusCode, CodeableConcept>> = Object.freeze(
  Object.fromEntries(RTT_STATUS_CODES.map((c) => [c, concept(coding(RTT_PERIOD_STATUS, c, RTT_STATUS_DISPLAY[c]))])) as Record<RttStatusCode, CodeableConcept>,
);
export const RTT_STATUS_EXTENSION: Readonly<Record<RttStatusCode, Extension>> = Object.freeze(
  Object.fromEntries(RTT_STATUS_CODES.map((c) => [c, extension(EXT_RTT_PERIOD_STATUS, RTT_STATUS[c])])) as Record<RttStatusCode, Extension>,
);

export type ClinicalPriorityCode = 'P1' | 'P2' | 'P3' | 'P4' | 'P5' | 'P6';
export const CLINICAL_PRIORITY_DISPLAY: Readonly<Record<ClinicalPriorityCode, string>> = {
  P1: 'Procedures to be performed in less than 72 hours (emergency, P1a within 24 hours)',
  P2: 'Procedures to be performed in less than 1 month',
  P3: 'Procedures to be performed in less than 3 months',
  P4: 'Procedures that can be delayed for more than 3 months',
  P5: 'Patient chose to delay treatment due to COVID-19 concerns',
  P6: 'Patient chose to postpone treatment for other reasons',
};
export const CLINICAL_PRIORITY_EXTENSION: Readonly<Record<ClinicalPriorityCode, Extension>> = Object.freeze({
  P1: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P1', CLINICAL_PRIORITY_DISPLAY.P1))),
  P2: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P2', CLINICAL_PRIORITY_DISPLAY.P2))),
  P3: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P3', CLINICAL_PRIORITY_DISPLAY.P3))),
  P4: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P4', CLINICAL_PRIORITY_DISPLAY.P4))),
  P5: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P5', CLINICAL_PRIORITY_DISPLAY.P5))),
  P6: extension(EXT_CLINICAL_PRIORITY, concept(coding(CLINICAL_PRIORITY, 'P6', CLINICAL_PRIORITY_DISPLAY.P6))),
});

/** CDS PRIORITY TYPE, with the FHIR ServiceRequest.priority each maps to. */
export const PRIORITY_TYPES = {
  routine: { fhir: 'routine', extension: extension(EXT_PRIORITY_TYPE, concept(coding(PRIORITY_TYPE, '1', 'Routine'))) },
  urgent: { fhir: 'urgent', extension: extension(EXT_PRIORITY_TYPE, concept(coding(PRIORITY_TYPE, '2', 'Urgent'))) },
  twoWeekWait: { fhir: 'asap', extension: extension(EXT_PRIORITY_TYPE, concept(coding(PRIORITY_TYPE, '3', 'Two week wait'))) },
} as const;

export const REFERRAL_CATEGORY = Object.freeze([
  concept(sct('3457005', 'Patient referral'), coding(SOURCE_OF_REFERRAL, '03', 'Referral from a General Medical Practitioner')),
]) as CodeableConcept[];
export const REFERRED_BY_GP = extension(EXT_SOURCE_OF_SERVICE_REQUEST, concept(sct('108161000000109', 'Referred by general practitioner')));

// ---------------------------------------------------------------------------------------------
// Community, mental health, social care and ambulance services (our CodeSystems where the
// national collections (CSDS, MHSDS, ASC-CLD, AQI) have no published FHIR CodeSystem).

export const CARE_SERVICES = {
  rttPathway: concept(coding(CARE_SERVICE, 'rtt-pathway', 'Consultant-led referral to treatment pathway')),
  districtNursing: concept(coding(CARE_SERVICE, 'district-nursing', 'District nursing (CSDS)')),
  communityMentalHealth: concept(coding(CARE_SERVICE, 'cmht', 'Community mental health team (MHSDS)')),
  talkingTherapies: concept(coding(CARE_SERVICE, 'talking-therapies', 'NHS Talking Therapies for anxiety and depression (IAPT)')),
  maternity: concept(coding(CARE_SERVICE, 'maternity', 'Maternity services (MSDS)')),
} as const;

/** Adult Social Care Client Level Data service types (NHS England ASC-CLD specification). */
export const ASC_SERVICES = {
  homeCare: concept(coding(ASC_SERVICE_TYPE, 'LTS-community-home-care', 'Long Term Support: Community: Home care')),
  directPayment: concept(coding(ASC_SERVICE_TYPE, 'LTS-community-direct-payment', 'Long Term Support: Community: Direct payment')),
  residentialCare: concept(coding(ASC_SERVICE_TYPE, 'LTS-residential-care', 'Long Term Support: Residential care')),
  nursingCare: concept(coding(ASC_SERVICE_TYPE, 'LTS-nursing-care', 'Long Term Support: Nursing care')),
  reablement: concept(coding(ASC_SERVICE_TYPE, 'STS-reablement', 'Short Term Support: ST-Max (reablement)')),
} as const;
export const ASC_ACTIVITIES = {
  assessment: Object.freeze([concept(coding(ASC_ACTIVITY, 'assessment', 'Care Act needs assessment'))]) as CodeableConcept[],
  review: Object.freeze([concept(coding(ASC_ACTIVITY, 'review', 'Review of care and support plan'))]) as CodeableConcept[],
} as const;

export const AMBULANCE_CATEGORIES = {
  C1: concept(coding(AMBULANCE_CATEGORY, 'C1', 'Category 1: life-threatening')),
  C2: concept(coding(AMBULANCE_CATEGORY, 'C2', 'Category 2: emergency')),
  C3: concept(coding(AMBULANCE_CATEGORY, 'C3', 'Category 3: urgent')),
  C4: concept(coding(AMBULANCE_CATEGORY, 'C4', 'Category 4: less urgent')),
} as const;
export const AMBULANCE_OUTCOMES = {
  conveyed: concept(coding(AMBULANCE_OUTCOME, 'see-treat-convey-ed', 'Conveyed to an emergency department')),
  seeAndTreat: concept(coding(AMBULANCE_OUTCOME, 'see-treat', 'Treated at the scene, not conveyed')),
  hearAndTreat: concept(coding(AMBULANCE_OUTCOME, 'hear-treat', 'Resolved by telephone advice')),
} as const;

// ---------------------------------------------------------------------------------------------
// Care teams, care plans and next of kin

/**
 * Roles of care team members (SNOMED CT occupations). Checked against HL7's Da Vinci CDex/HRex
 * NUCC-to-SNOMED CareTeam member function ConceptMap (care coordinator 768820003, district nurse
 * 158997000, psychiatrist 80584001, general practitioner / family medicine specialist 62247001)
 * and HL7 CareTeam examples (social worker 106328005). The display is the UK preferred term.
 */
export const CARE_TEAM_ROLES = {
  careCoordinator: concept(sct('768820003', 'Care coordinator')),
  psychiatrist: concept(sct('80584001', 'Psychiatrist')),
  districtNurse: concept(sct('158997000', 'District nurse')),
  generalPractitioner: concept(sct('62247001', 'General practitioner')),
  socialWorker: concept(sct('106328005', 'Social worker')),
} as const;

/**
 * Care plan categories (SNOMED CT record artifacts under 734163000 |Care plan|, the R4
 * CarePlanCategory value set). Checked against NHS England's National Record Locator pointer
 * types (NHSDigital/NRLF: category 734163000 Care plan; 736373009 End of life care plan,
 * 736366004 Advance care plan, 2181441000000107 Personalised care and support plan).
 */
export const CARE_PLAN_CATEGORIES = {
  carePlan: Object.freeze([concept(sct('734163000', 'Care plan'))]) as CodeableConcept[],
  endOfLife: Object.freeze([concept(sct('736373009', 'End of life care plan'))]) as CodeableConcept[],
  advanceCare: Object.freeze([concept(sct('736366004', 'Advance care plan'))]) as CodeableConcept[],
  careAndSupport: Object.freeze([concept(sct('2181441000000107', 'Personalised care and support plan'))]) as CodeableConcept[],
} as const;

/** HL7 v3 RoleCode (personal relationships) and v2 table 0131 (contact role), as UK Core's PersonRelationshipType value set includes them. */
export const V3_ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
export const V2_CONTACT_ROLE = 'http://terminology.hl7.org/CodeSystem/v2-0131';

/**
 * Patient.contact relationships. UK Core binds Patient.contact.relationship (extensible) to
 * UKCore-PersonRelationshipType, which includes HL7 v3 RoleCode and v2-0131; codes and displays
 * checked against a copy of that value set's expansion (version 2.1.0, v3-RoleCode 2018-08-12,
 * v2-0131 2.9). The personal relationship comes first (what a reader wants to see), then
 * v2-0131 N Next-of-Kin.
 */
export const RELATIONSHIPS = {
  husband: conceptText('Husband', coding(V3_ROLE_CODE, 'HUSB', 'husband')),
  wife: conceptText('Wife', coding(V3_ROLE_CODE, 'WIFE', 'wife')),
  partner: conceptText('Partner', coding(V3_ROLE_CODE, 'DOMPART', 'domestic partner')),
  mother: conceptText('Mother', coding(V3_ROLE_CODE, 'MTH', 'mother')),
  father: conceptText('Father', coding(V3_ROLE_CODE, 'FTH', 'father')),
  son: conceptText('Son', coding(V3_ROLE_CODE, 'SONC', 'son')),
  daughter: conceptText('Daughter', coding(V3_ROLE_CODE, 'DAUC', 'daughter')),
  familyMember: conceptText('Family member', coding(V3_ROLE_CODE, 'FAMMEMB', 'family member')),
} as const;
export type RelationshipKey = keyof typeof RELATIONSHIPS;
export const NEXT_OF_KIN = concept(coding(V2_CONTACT_ROLE, 'N', 'Next-of-Kin'));
