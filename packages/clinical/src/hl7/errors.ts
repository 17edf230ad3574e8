/**
 * The one error the HL7 v2 parser and converter throw. Messages name segments and fields
 * ("PID-7 is not a valid HL7 date"), never values taken from the message.
 */

/** Stable codes for every way an HL7 v2 message can be rejected. */
export type Hl7ErrorCode =
  | 'WARD_HL7_EMPTY_MESSAGE'
  | 'WARD_HL7_MESSAGE_TOO_LARGE'
  | 'WARD_HL7_MISSING_MSH'
  | 'WARD_HL7_BAD_ENCODING_CHARACTERS'
  | 'WARD_HL7_MULTIPLE_MESSAGES'
  | 'WARD_HL7_MISSING_MESSAGE_TYPE'
  | 'WARD_HL7_UNSUPPORTED_MESSAGE_TYPE'
  | 'WARD_HL7_MISSING_SEGMENT'
  | 'WARD_HL7_MISSING_FIELD'
  | 'WARD_HL7_INVALID_DATE'
  | 'WARD_HL7_CONVERSION_FAILED';

/** Details that locate an {@link Hl7ParseError}. */
export interface Hl7ParseErrorDetails {
  /** Segment id the problem is in or about, e.g. `MSH`, `PID`, `OBX`. */
  segment: string;
  /** Field in HL7 notation, e.g. `MSH-9`, `PID-7`, `OBX-3`. */
  field: string;
  /** 0-based position of the segment in the message, when one exists. */
  segmentIndex?: number;
  cause?: unknown;
}

/** A message Ward cannot parse or convert. Safe to log: it carries no patient data. */
export class Hl7ParseError extends Error {
  override readonly name = 'Hl7ParseError';
  readonly code: Hl7ErrorCode;
  readonly segment: string;
  readonly field: string;
  readonly segmentIndex: number | undefined;
  /** HTTP status a route should answer with. */
  readonly statusCode = 400;

  constructor(code: Hl7ErrorCode, message: string, details: Hl7ParseErrorDetails) {
    const where = details.segmentIndex === undefined ? '' : ` (segment ${details.segmentIndex + 1})`;
    super(
      `${details.field}: ${message}${where}`,
      details.cause === undefined ? {} : { cause: details.cause },
    );
    this.code = code;
    this.segment = details.segment;
    this.field = details.field;
    this.segmentIndex = details.segmentIndex;
  }
}
