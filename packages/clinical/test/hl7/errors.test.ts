import { describe, expect, it } from 'vitest';
import { convertHl7ToFhir, type Hl7ErrorCode, Hl7ParseError } from '../../src/hl7/index.js';

// Canary patient data: none of it may ever appear in an error.
const NAME = 'ZZCANARYFAMILY';
const GIVEN = 'QQCANARYGIVEN';
const MRN = 'MRN7734921';
const BIRTH = '19771231';
const CANARIES = [NAME, GIVEN, MRN, BIRTH];

const MSH = 'MSH|^~\\&|LAB|HOSP|WARD|WARD|20240102030405+0100||ORU^R01|CTRL9|P|2.5.1';
const PID = `PID|1||${MRN}^^^HOSP^MR||${NAME}^${GIVEN}||${BIRTH}|F`;
const OBR = 'OBR|1|PL1|FI1|24317-0^Hemogram^LN|||20240102030405+0100||||||||||||||||||F';
const OBX = 'OBX|1|NM|718-7^Hemoglobin^LN||13.2|g/dL^^UCUM|12-16|N|||F';

function message(...segments: string[]): string {
  return segments.join('\r');
}

function errorOf(text: unknown): Hl7ParseError {
  try {
    convertHl7ToFhir(text as string);
  } catch (error) {
    expect(error).toBeInstanceOf(Hl7ParseError);
    return error as Hl7ParseError;
  }
  throw new Error('expected convertHl7ToFhir to throw');
}

describe('malformed messages', () => {
  it('accepts the well-formed canary message', () => {
    expect(convertHl7ToFhir(message(MSH, PID, OBR, OBX)).bundle.entry).toHaveLength(3);
  });

  const cases: [string, unknown, Hl7ErrorCode, string, string][] = [
    ['empty input', '', 'WARD_HL7_EMPTY_MESSAGE', 'MSH', 'MSH-1'],
    ['blank lines only', ' \r\n\n\r ', 'WARD_HL7_EMPTY_MESSAGE', 'MSH', 'MSH-1'],
    ['input that is not text', undefined, 'WARD_HL7_EMPTY_MESSAGE', 'MSH', 'MSH-1'],
    ['a first segment other than MSH', message(PID, MSH, OBR, OBX), 'WARD_HL7_MISSING_MSH', 'MSH', 'MSH-1'],
    [
      'a letter as field separator (MSH-1)',
      message(MSH.replaceAll('|', 'X'), PID),
      'WARD_HL7_BAD_ENCODING_CHARACTERS',
      'MSH',
      'MSH-1',
    ],
    ['MSH with nothing after it', message('MSH', PID), 'WARD_HL7_BAD_ENCODING_CHARACTERS', 'MSH', 'MSH-1'],
    [
      'three encoding characters (MSH-2)',
      message(MSH.replace('^~\\&', '^~\\'), PID),
      'WARD_HL7_BAD_ENCODING_CHARACTERS',
      'MSH',
      'MSH-2',
    ],
    [
      'repeated encoding characters (MSH-2)',
      message(MSH.replace('^~\\&', '^^\\&'), PID),
      'WARD_HL7_BAD_ENCODING_CHARACTERS',
      'MSH',
      'MSH-2',
    ],
    [
      'a letter among the encoding characters (MSH-2)',
      message(MSH.replace('^~\\&', '^~\\A'), PID),
      'WARD_HL7_BAD_ENCODING_CHARACTERS',
      'MSH',
      'MSH-2',
    ],
    [
      'no message type (MSH-9)',
      message(MSH.replace('ORU^R01', ''), PID, OBR, OBX),
      'WARD_HL7_MISSING_MESSAGE_TYPE',
      'MSH',
      'MSH-9',
    ],
    [
      'no trigger event (MSH-9.2)',
      message(MSH.replace('ORU^R01', 'ORU'), PID, OBR, OBX),
      'WARD_HL7_MISSING_MESSAGE_TYPE',
      'MSH',
      'MSH-9',
    ],
    ['an ORU without PID', message(MSH, OBR, OBX), 'WARD_HL7_MISSING_SEGMENT', 'PID', 'PID-3'],
    [
      'an ADT without PID',
      message(MSH.replace('ORU^R01', 'ADT^A01'), 'EVN|A01', 'PV1|1|I'),
      'WARD_HL7_MISSING_SEGMENT',
      'PID',
      'PID-3',
    ],
    [
      'an unsupported message type',
      message(MSH.replace('ORU^R01', 'SIU^S12'), PID),
      'WARD_HL7_UNSUPPORTED_MESSAGE_TYPE',
      'MSH',
      'MSH-9',
    ],
    [
      'an ADT merge',
      message(MSH.replace('ORU^R01', 'ADT^A40'), PID),
      'WARD_HL7_UNSUPPORTED_MESSAGE_TYPE',
      'MSH',
      'MSH-9',
    ],
    [
      'an invalid birth date (PID-7)',
      message(MSH, PID.replace(BIRTH, '19771331'), OBR, OBX),
      'WARD_HL7_INVALID_DATE',
      'PID',
      'PID-7',
    ],
    [
      'an invalid message date (MSH-7)',
      message(MSH.replace('20240102030405+0100', '2024-01-02'), PID),
      'WARD_HL7_INVALID_DATE',
      'MSH',
      'MSH-7',
    ],
    [
      'an OBX without OBX-3',
      message(MSH, PID, OBR, OBX.replace('718-7^Hemoglobin^LN', '')),
      'WARD_HL7_MISSING_FIELD',
      'OBX',
      'OBX-3',
    ],
    [
      'an ORU OBR without OBR-4',
      message(MSH, PID, OBR.replace('24317-0^Hemogram^LN', ''), OBX),
      'WARD_HL7_MISSING_FIELD',
      'OBR',
      'OBR-4',
    ],
    [
      'two messages in one',
      message(MSH, PID, OBR, OBX, MSH, PID),
      'WARD_HL7_MULTIPLE_MESSAGES',
      'MSH',
      'MSH-1',
    ],
  ];

  it.each(cases)(
    'rejects %s with a typed error naming segment and field',
    (_label, text, code, segment, field) => {
      const error = errorOf(text);
      expect(error.code).toBe(code);
      expect(error.segment).toBe(segment);
      expect(error.field).toBe(field);
      expect(error.statusCode).toBe(400);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
    },
  );

  it.each(cases)('never echoes patient data for %s', (_label, text) => {
    const error = errorOf(text);
    const shown = [error.message, String(error), JSON.stringify(error), error.stack ?? ''].join('\n');
    for (const canary of CANARIES) expect(shown).not.toContain(canary);
  });

  it('says which field is wrong in words', () => {
    expect(errorOf(message(MSH, PID.replace(BIRTH, '19771331'))).message).toBe(
      'PID-7: PID-7 is not a valid HL7 date (segment 2)',
    );
    expect(errorOf(message(MSH.replace('ORU^R01', 'SIU^S12'), PID)).message).toBe(
      'MSH-9: SIU^S12 is not supported (segment 1)',
    );
  });

  it('does not echo a message type that does not look like one', () => {
    const error = errorOf(message(MSH.replace('ORU^R01', `${NAME}^${GIVEN}`), PID));
    expect(error.code).toBe('WARD_HL7_UNSUPPORTED_MESSAGE_TYPE');
    expect(error.message).toBe('MSH-9: this message type is not supported (segment 1)');
  });

  it('rejects input over maxLength before parsing it', () => {
    const text = message(MSH, PID, OBR, OBX);
    expect(() => convertHl7ToFhir(text, { maxLength: 50 })).toThrowError(
      expect.objectContaining({ code: 'WARD_HL7_MESSAGE_TOO_LARGE' }),
    );
  });

  it('reports a bad date outside the required fields as a finding, not an error', () => {
    const { bundle, findings } = convertHl7ToFhir(message(MSH, PID, OBR, OBX.replace('|F', '|F|||20241399')));
    expect(findings).toContainEqual(
      expect.objectContaining({ severity: 'warning', code: 'HL7_INVALID_DATE', path: 'segments[3].OBX-14' }),
    );
    expect(bundle.entry).toHaveLength(3);
    for (const f of findings) for (const canary of CANARIES) expect(f.message).not.toContain(canary);
  });
});
