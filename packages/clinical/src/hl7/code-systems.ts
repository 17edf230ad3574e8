/**
 * Vocabulary maps: HL7 table 0396 coding-system names → FHIR system URIs, and the v2-to-FHIR IG
 * ConceptMaps (HL7 tables → FHIR codes) the converter uses. Where the IG leaves a code unmapped
 * and FHIR needs a value, the Ward choice is marked.
 */

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';
export const V3_PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const V3_MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
export const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
export const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
export const DIAGNOSIS_ROLE = 'http://terminology.hl7.org/CodeSystem/diagnosis-role';
export const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const LOCATION_TYPE = 'http://terminology.hl7.org/CodeSystem/location-physical-type';
export const US_SSN = 'http://hl7.org/fhir/sid/us-ssn';
export const BIRTH_TIME_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';

/** HL7 table → FHIR system URI, e.g. `0203` → `http://terminology.hl7.org/CodeSystem/v2-0203`. */
export function v2Table(table: string): string {
  return `http://terminology.hl7.org/CodeSystem/v2-${table}`;
}

/**
 * Table 0396 names (as senders write them in CWE.3) → FHIR URIs. `I10` follows the issue that
 * specified this converter (ICD-10-CM); table 0396 defines I10 as WHO ICD-10, so non-US sites
 * should override it with `codeSystems: { I10: 'http://hl7.org/fhir/sid/icd-10' }`.
 */
const CODING_SYSTEMS: Record<string, string> = {
  LN: LOINC,
  LOINC: LOINC,
  SCT: SNOMED,
  SNOMEDCT: SNOMED,
  'SNOMED-CT': SNOMED,
  I10: 'http://hl7.org/fhir/sid/icd-10-cm',
  I10C: 'http://hl7.org/fhir/sid/icd-10-cm',
  'ICD-10-CM': 'http://hl7.org/fhir/sid/icd-10-cm',
  ICD10CM: 'http://hl7.org/fhir/sid/icd-10-cm',
  I10P: 'http://www.cms.gov/Medicare/Coding/ICD10',
  I9: 'http://hl7.org/fhir/sid/icd-9-cm',
  I9C: 'http://hl7.org/fhir/sid/icd-9-cm',
  I9CDX: 'http://hl7.org/fhir/sid/icd-9-cm',
  C4: 'http://www.ama-assn.org/go/cpt',
  C5: 'http://www.ama-assn.org/go/cpt',
  CPT: 'http://www.ama-assn.org/go/cpt',
  RXNORM: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  RXN: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  NDC: 'http://hl7.org/fhir/sid/ndc',
  CVX: 'http://hl7.org/fhir/sid/cvx',
  UCUM: UCUM,
  DCM: 'http://dicom.nema.org/resources/ontology/DCM',
  CDCREC: 'urn:oid:2.16.840.1.113883.6.238',
  NUCCPROVIDERTAXONOMY: 'http://nucc.org/provider-taxonomy',
};

/**
 * FHIR system for a v2 coding-system name, or undefined when it is local (`L`, `99…`) or unknown.
 * `HL7nnnn` becomes the v2 table code system; a name that is already a URI is kept.
 */
export function codingSystemUri(name: string, overrides?: Record<string, string>): string | undefined {
  const key = name.trim();
  if (key === '') return undefined;
  const override = overrides?.[key] ?? overrides?.[key.toUpperCase()];
  if (override) return override;
  const known = CODING_SYSTEMS[key.toUpperCase()];
  if (known) return known;
  const table = /^HL7(\d{4})$/i.exec(key);
  if (table) return v2Table(table[1]!);
  if (/^(urn:(oid|uuid):|https?:\/\/)\S+$/.test(key)) return key;
  return undefined;
}

/** PID-8 (table 0001) → Patient.gender, per the IG map (A and N → other). */
export const ADMINISTRATIVE_SEX: Record<string, 'male' | 'female' | 'other' | 'unknown'> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  N: 'other',
  U: 'unknown',
};

/** PV1-2 (table 0004) → Encounter.class, per the IG map. */
export const PATIENT_CLASS: Record<string, { system: string; code: string; display: string }> = {
  E: { system: V3_ACT_CODE, code: 'EMER', display: 'emergency' },
  I: { system: V3_ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  O: { system: V3_ACT_CODE, code: 'AMB', display: 'ambulatory' },
  P: { system: V3_ACT_CODE, code: 'PRENC', display: 'pre-admission' },
  R: { system: v2Table('0004'), code: 'R', display: 'Recurring patient' },
  B: { system: v2Table('0004'), code: 'B', display: 'Obstetrics' },
  C: { system: v2Table('0004'), code: 'C', display: 'Commercial Account' },
  N: { system: v2Table('0004'), code: 'N', display: 'Not Applicable' },
  U: { system: v2Table('0004'), code: 'U', display: 'Unknown' },
};

type EncounterStatus = 'planned' | 'in-progress' | 'finished' | 'cancelled' | 'unknown';

/** PV1-2 (table 0004) → Encounter.status when PV1-45 is empty, per the IG map. */
export const PATIENT_CLASS_STATUS: Record<string, EncounterStatus> = {
  E: 'in-progress',
  I: 'in-progress',
  O: 'in-progress',
  P: 'planned',
  R: 'in-progress',
  B: 'in-progress',
  C: 'in-progress',
};

/** ADT trigger event → Encounter.status (A08 and the person events leave it to PV1). */
export const ADT_EVENT_STATUS: Record<string, EncounterStatus> = {
  A01: 'in-progress',
  A02: 'in-progress',
  A03: 'finished',
  A04: 'in-progress',
  A05: 'planned',
  A06: 'in-progress',
  A07: 'in-progress',
  A08: 'in-progress',
  A11: 'cancelled',
  A12: 'in-progress',
  A13: 'in-progress',
};

type ObservationStatus =
  | 'registered'
  | 'preliminary'
  | 'final'
  | 'amended'
  | 'corrected'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

/**
 * OBX-11 (table 0085) → Observation.status. A, C, D, F, P, W, X follow the IG map; the IG leaves the
 * rest unmapped and Ward chooses: B→amended, I/O→registered, N→cancelled, R/S→preliminary, U/V→final.
 */
export const OBSERVATION_STATUS: Record<string, ObservationStatus> = {
  A: 'amended',
  B: 'amended',
  C: 'corrected',
  D: 'entered-in-error',
  F: 'final',
  I: 'registered',
  N: 'cancelled',
  O: 'registered',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  U: 'final',
  V: 'final',
  W: 'entered-in-error',
  X: 'cancelled',
};

type ReportStatus =
  | 'registered'
  | 'partial'
  | 'preliminary'
  | 'final'
  | 'corrected'
  | 'cancelled'
  | 'unknown';

/** OBR-25 (table 0123) → DiagnosticReport.status, per the IG map; A (some results) → partial is Ward's. */
export const RESULT_STATUS: Record<string, ReportStatus> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  A: 'partial',
  P: 'preliminary',
  C: 'corrected',
  R: 'partial',
  F: 'final',
  X: 'cancelled',
};

/** AL1-2 (table 0127) → AllergyIntolerance.category, per the IG map. */
export const ALLERGEN_CATEGORY: Record<string, 'food' | 'medication' | 'environment'> = {
  DA: 'medication',
  FA: 'food',
  EA: 'environment',
  AA: 'environment',
  PA: 'environment',
  LA: 'environment',
};

/** AL1-2 (table 0127) codes that are allergies (AllergyIntolerance.type). */
export const ALLERGY_TYPES = new Set(['DA', 'FA', 'MA', 'EA', 'AA', 'PA', 'LA']);

/** AL1-4 (table 0128) → AllergyIntolerance.criticality, per the IG map (MO unmapped). */
export const ALLERGY_CRITICALITY: Record<string, 'low' | 'high' | 'unable-to-assess'> = {
  SV: 'high',
  MI: 'low',
  U: 'unable-to-assess',
};

/** AL1-4 (table 0128) → AllergyIntolerance.reaction.severity. */
export const ALLERGY_SEVERITY: Record<string, 'mild' | 'moderate' | 'severe'> = {
  MI: 'mild',
  MO: 'moderate',
  SV: 'severe',
};

/** XPN.7 (table 0200) → HumanName.use. */
export const NAME_USE: Record<
  string,
  'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden'
> = {
  A: 'usual',
  B: 'official',
  BAD: 'old',
  C: 'official',
  D: 'usual',
  L: 'official',
  M: 'maiden',
  MSK: 'anonymous',
  N: 'nickname',
  NAV: 'temp',
  NB: 'temp',
  NOUSE: 'old',
  P: 'usual',
  R: 'official',
  REL: 'usual',
  S: 'anonymous',
  T: 'usual',
  TEMP: 'temp',
};

/** XAD.7 (table 0190) → Address.use. */
export const ADDRESS_USE: Record<string, 'home' | 'work' | 'temp' | 'old'> = {
  H: 'home',
  B: 'work',
  O: 'work',
  C: 'temp',
  BA: 'old',
};

/** XAD.7 (table 0190) → Address.type. */
export const ADDRESS_TYPE: Record<string, 'postal' | 'physical'> = { M: 'postal', SH: 'postal' };

/** XTN.2 (table 0201) → ContactPoint.use. */
export const TELECOM_USE: Record<string, 'home' | 'work' | 'temp'> = {
  PRN: 'home',
  ORN: 'home',
  WPN: 'work',
  VHN: 'temp',
};

/** XTN.3 (table 0202) → ContactPoint.system. */
export const TELECOM_EQUIPMENT: Record<string, 'phone' | 'fax' | 'email' | 'pager' | 'other'> = {
  PH: 'phone',
  CP: 'phone',
  FX: 'fax',
  MD: 'other',
  BP: 'pager',
  INTERNET: 'email',
  'X.400': 'email',
  TDD: 'other',
  TTY: 'other',
  SAT: 'phone',
};

/** PID-16 (table 0002) → v3 MaritalStatus (or NullFlavor for unknown/other). */
export const MARITAL_STATUS: Record<string, { system: string; code: string; display: string }> = {
  A: { system: V3_MARITAL, code: 'L', display: 'Legally Separated' },
  B: { system: V3_MARITAL, code: 'U', display: 'unmarried' },
  C: { system: V3_MARITAL, code: 'C', display: 'Common Law' },
  D: { system: V3_MARITAL, code: 'D', display: 'Divorced' },
  E: { system: V3_MARITAL, code: 'L', display: 'Legally Separated' },
  G: { system: V3_MARITAL, code: 'T', display: 'Domestic partner' },
  I: { system: V3_MARITAL, code: 'I', display: 'Interlocutory' },
  M: { system: V3_MARITAL, code: 'M', display: 'Married' },
  N: { system: V3_MARITAL, code: 'A', display: 'Annulled' },
  O: { system: V3_NULL_FLAVOR, code: 'OTH', display: 'other' },
  P: { system: V3_MARITAL, code: 'T', display: 'Domestic partner' },
  R: { system: V3_MARITAL, code: 'T', display: 'Domestic partner' },
  S: { system: V3_MARITAL, code: 'S', display: 'Never Married' },
  T: { system: V3_NULL_FLAVOR, code: 'NI', display: 'NoInformation' },
  U: { system: V3_NULL_FLAVOR, code: 'UNK', display: 'unknown' },
  W: { system: V3_MARITAL, code: 'W', display: 'Widowed' },
};

/** OBX-8 (table 0078) codes that are also v3 ObservationInterpretation codes, with displays. */
export const INTERPRETATION: Record<string, string> = {
  '<': 'Off scale low',
  '>': 'Off scale high',
  A: 'Abnormal',
  AA: 'Critical abnormal',
  AC: 'Anti-complementary substances present',
  B: 'Better',
  D: 'Significant change down',
  DET: 'Detected',
  E: 'Equivocal',
  EX: 'outside threshold',
  H: 'High',
  HH: 'Critical high',
  HU: 'Significantly high',
  HX: 'above high threshold',
  I: 'Intermediate',
  IE: 'Insufficient evidence',
  IND: 'Indeterminate',
  L: 'Low',
  LL: 'Critical low',
  LU: 'Significantly low',
  LX: 'below low threshold',
  MS: 'moderately susceptible',
  N: 'Normal',
  NCL: 'No CLSI defined breakpoint',
  ND: 'Not detected',
  NEG: 'Negative',
  NR: 'Non-reactive',
  NS: 'Non-susceptible',
  POS: 'Positive',
  QCF: 'Quality control failure',
  R: 'Resistant',
  RR: 'Reactive',
  S: 'Susceptible',
  SDD: 'Susceptible-dose dependent',
  'SYN-R': 'Synergy - resistant',
  'SYN-S': 'Synergy - susceptible',
  TOX: 'Cytotoxic substance present',
  U: 'Significant change up',
  UNE: 'Unexpected',
  VS: 'very susceptible',
  W: 'Worse',
  WR: 'Weakly reactive',
};

/** Well-known assigning authorities (CX.4.1) → Identifier.system. */
export const KNOWN_AUTHORITIES: Record<string, string> = {
  USSSA: US_SSN,
  SSA: US_SSN,
};
