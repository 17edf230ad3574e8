/**
 * Public option and result types of the HL7 v2 → FHIR R4 converter.
 */
import type { TaskFinding } from '../task.js';
import type { FhirBundle } from './fhir-types.js';

/**
 * A conversion or validation finding, shaped like every other Ward finding. `path` is an HL7
 * location (`segments[12].OBX-5`) for conversion findings and a bundle path
 * (`entry[3].resource.status`) for validation findings; `message` never echoes message values.
 */
export type Hl7Finding = TaskFinding;

/** Options of {@link convertHl7ToFhir}. */
export interface ConvertHl7Options {
  /**
   * `transaction` (default): every entry carries `request: PUT <Type>/<id>`, so re-posting the same
   * message upserts the same resources. `collection`: plain entries, no requests.
   */
  bundleType?: 'transaction' | 'collection';
  /**
   * UTC offset (`+01:00`, `-05:00`, `Z`) for timestamps that carry a time but no offset, used only
   * when MSH-7 carries none either. Without it such timestamps are reduced to their date.
   */
  defaultTimezoneOffset?: string;
  /** Extra or overriding v2 coding-system → FHIR system URI entries, e.g. `{ I10: 'http://hl7.org/fhir/sid/icd-10' }`. */
  codeSystems?: Record<string, string>;
  /** Assigning-authority namespace (CX.4.1 / EI.2) → Identifier.system, e.g. `{ HOSP_MRN: 'urn:oid:1.2.3' }`. */
  assigningAuthorities?: Record<string, string>;
  /** UUID namespace for the UUIDv5 resource ids; give each sending site its own to keep ids apart. */
  idNamespace?: string;
  /** Run {@link validateBundle} on the result and append its findings (default true). */
  validate?: boolean;
  /** Longest accepted input, in characters (default 5,000,000). */
  maxLength?: number;
}

/** What {@link convertHl7ToFhir} returns. */
export interface ConvertHl7Result {
  bundle: FhirBundle;
  findings: Hl7Finding[];
}
