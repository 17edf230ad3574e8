/**
 * HL7 v2.x → FHIR R4: a deterministic converter, its message parser and a bundle validator.
 * See docs/hl7-to-fhir.md for the mappings and choices.
 */
export { convertHl7ToFhir, SUPPORTED_MESSAGE_TYPES } from './convert.js';
export {
  type FhirDateTimeResult,
  type Hl7Timestamp,
  type Hl7TimestampResult,
  parseHl7Timestamp,
  toFhirDate,
  toFhirDateTime,
  toFhirInstant,
} from './datetime.js';
export { type Hl7ErrorCode, Hl7ParseError, type Hl7ParseErrorDetails } from './errors.js';
export type * from './fhir-types.js';
export { uuidV5, WARD_HL7_ID_NAMESPACE } from './ids.js';
export {
  componentOf,
  type Hl7Encoding,
  type Hl7Field,
  type Hl7Message,
  type Hl7Repetition,
  Hl7Segment,
} from './model.js';
export { type ParseHl7Options, parseHl7 } from './parser.js';
export type { ConvertHl7Options, ConvertHl7Result, Hl7Finding } from './types.js';
export { isUcumUnit } from './ucum.js';
export { validateBundle } from './validate.js';
