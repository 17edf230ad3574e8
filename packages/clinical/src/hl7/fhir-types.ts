/**
 * The subset of FHIR R4 types the HL7 v2 converter emits. Optional everywhere FHIR is optional;
 * the converter never emits empty strings, arrays or objects.
 */

export interface Coding {
  system?: string;
  version?: string;
  code?: string;
  display?: string;
}

export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}

export interface Reference {
  reference?: string;
  display?: string;
}

export interface Period {
  start?: string;
  end?: string;
}

export interface Identifier {
  use?: 'usual' | 'official' | 'temp' | 'secondary' | 'old';
  type?: CodeableConcept;
  system?: string;
  value?: string;
  period?: Period;
  assigner?: Reference;
}

export interface HumanName {
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
  period?: Period;
}

export interface Address {
  use?: 'home' | 'work' | 'temp' | 'old' | 'billing';
  type?: 'postal' | 'physical' | 'both';
  text?: string;
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
  period?: Period;
}

export interface ContactPoint {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
  rank?: number;
  period?: Period;
}

export interface Quantity {
  value?: number;
  comparator?: '<' | '<=' | '>=' | '>';
  unit?: string;
  system?: string;
  code?: string;
}

export interface Range {
  low?: Quantity;
  high?: Quantity;
}

export interface Ratio {
  numerator?: Quantity;
  denominator?: Quantity;
}

export interface Attachment {
  contentType?: string;
  data?: string;
  url?: string;
  title?: string;
}

export interface Annotation {
  text: string;
  time?: string;
}

export interface Extension {
  url: string;
  valueDateTime?: string;
}

interface ResourceBase {
  id?: string;
}

export interface Patient extends ResourceBase {
  resourceType: 'Patient';
  identifier?: Identifier[];
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
  _birthDate?: { extension: Extension[] };
  deceasedBoolean?: boolean;
  deceasedDateTime?: string;
  address?: Address[];
  maritalStatus?: CodeableConcept;
  multipleBirthBoolean?: boolean;
  multipleBirthInteger?: number;
}

export interface Practitioner extends ResourceBase {
  resourceType: 'Practitioner';
  identifier?: Identifier[];
  name?: HumanName[];
}

export interface Location extends ResourceBase {
  resourceType: 'Location';
  name?: string;
  description?: string;
  mode?: 'instance' | 'kind';
  physicalType?: CodeableConcept;
}

export interface EncounterParticipant {
  type?: CodeableConcept[];
  individual?: Reference;
}

export interface Encounter extends ResourceBase {
  resourceType: 'Encounter';
  identifier?: Identifier[];
  status:
    | 'planned'
    | 'arrived'
    | 'triaged'
    | 'in-progress'
    | 'onleave'
    | 'finished'
    | 'cancelled'
    | 'entered-in-error'
    | 'unknown';
  class: Coding;
  type?: CodeableConcept[];
  serviceType?: CodeableConcept;
  subject?: Reference;
  participant?: EncounterParticipant[];
  period?: Period;
  diagnosis?: { condition: Reference; use?: CodeableConcept; rank?: number }[];
  location?: { location: Reference; status?: 'planned' | 'active' | 'reserved' | 'completed' }[];
}

export interface ObservationReferenceRange {
  low?: Quantity;
  high?: Quantity;
  text?: string;
}

export interface Observation extends ResourceBase {
  resourceType: 'Observation';
  identifier?: Identifier[];
  status:
    | 'registered'
    | 'preliminary'
    | 'final'
    | 'amended'
    | 'corrected'
    | 'cancelled'
    | 'entered-in-error'
    | 'unknown';
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  performer?: Reference[];
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueRange?: Range;
  valueRatio?: Ratio;
  valueDateTime?: string;
  valueTime?: string;
  dataAbsentReason?: CodeableConcept;
  interpretation?: CodeableConcept[];
  note?: Annotation[];
  method?: CodeableConcept;
  referenceRange?: ObservationReferenceRange[];
}

export interface DiagnosticReport extends ResourceBase {
  resourceType: 'DiagnosticReport';
  identifier?: Identifier[];
  status:
    | 'registered'
    | 'partial'
    | 'preliminary'
    | 'final'
    | 'amended'
    | 'corrected'
    | 'appended'
    | 'cancelled'
    | 'entered-in-error'
    | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  issued?: string;
  result?: Reference[];
  presentedForm?: Attachment[];
}

export interface AllergyIntoleranceReaction {
  manifestation: CodeableConcept[];
  severity?: 'mild' | 'moderate' | 'severe';
}

export interface AllergyIntolerance extends ResourceBase {
  resourceType: 'AllergyIntolerance';
  clinicalStatus?: CodeableConcept;
  type?: 'allergy' | 'intolerance';
  category?: ('food' | 'medication' | 'environment' | 'biologic')[];
  criticality?: 'low' | 'high' | 'unable-to-assess';
  code?: CodeableConcept;
  patient: Reference;
  encounter?: Reference;
  onsetDateTime?: string;
  reaction?: AllergyIntoleranceReaction[];
}

export interface Condition extends ResourceBase {
  resourceType: 'Condition';
  category?: CodeableConcept[];
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  recordedDate?: string;
  asserter?: Reference;
}

export interface DocumentReference extends ResourceBase {
  resourceType: 'DocumentReference';
  status: 'current' | 'superseded' | 'entered-in-error';
  docStatus?: 'preliminary' | 'final' | 'amended' | 'entered-in-error';
  type?: CodeableConcept;
  subject?: Reference;
  date?: string;
  content: { attachment: Attachment }[];
  context?: { encounter?: Reference[] };
}

/** Every resource type the converter emits. */
export type FhirResource =
  | Patient
  | Practitioner
  | Location
  | Encounter
  | Observation
  | DiagnosticReport
  | AllergyIntolerance
  | Condition
  | DocumentReference;

export interface BundleEntry {
  fullUrl: string;
  resource: FhirResource;
  request?: { method: 'PUT' | 'POST'; url: string };
}

export interface FhirBundle {
  resourceType: 'Bundle';
  id: string;
  type: 'transaction' | 'collection';
  timestamp?: string;
  entry: BundleEntry[];
}
