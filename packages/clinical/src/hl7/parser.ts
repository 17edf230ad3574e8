/**
 * Text → {@link Hl7Message}: segment splitting (CR, LF or CRLF), MSH-1/MSH-2 delimiters, field,
 * repetition, component and subcomponent splitting, and escape decoding.
 */
import { Hl7ParseError } from './errors.js';
import { decodeEscapes } from './escape.js';
import { type Hl7Encoding, type Hl7Field, type Hl7Message, type Hl7Repetition, Hl7Segment } from './model.js';
import type { Hl7Finding } from './types.js';

/** Options of {@link parseHl7}. */
export interface ParseHl7Options {
  /** Longest accepted input, in characters (default 5,000,000). */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 5_000_000;
const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;
const BAD_DELIMITER = /[A-Za-z0-9\s]/;

function bad(
  field: string,
  message: string,
  code = 'WARD_HL7_BAD_ENCODING_CHARACTERS' as const,
): Hl7ParseError {
  return new Hl7ParseError(code, message, { segment: 'MSH', field, segmentIndex: 0 });
}

function readEncoding(msh: string): Hl7Encoding {
  const field = msh[3];
  if (field === undefined || BAD_DELIMITER.test(field)) {
    throw bad('MSH-1', 'the field separator after MSH is missing or is a letter, digit or space');
  }
  const end = msh.indexOf(field, 4);
  const chars = end === -1 ? msh.slice(4) : msh.slice(4, end);
  if (chars.length < 4 || chars.length > 5) {
    throw bad('MSH-2', 'the encoding characters must be 4 (or 5, with truncation) characters');
  }
  const all = [field, ...chars];
  if (new Set(all).size !== all.length || [...chars].some((c) => BAD_DELIMITER.test(c))) {
    throw bad('MSH-2', 'the encoding characters must be distinct punctuation, different from MSH-1');
  }
  const [component, repetition, escapeChar, subcomponent, truncation] = [...chars] as [
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const encoding: Hl7Encoding = { field, component, repetition, escape: escapeChar, subcomponent };
  if (truncation !== undefined) encoding.truncation = truncation;
  return encoding;
}

/** Splits and decodes one field. The HL7 null `""` reads as empty in the leaves; `raw` keeps it. */
function parseField(raw: string, enc: Hl7Encoding): Hl7Field {
  if (raw === '') return { raw, repetitions: [] };
  const repetitions: Hl7Repetition[] = raw
    .split(enc.repetition)
    .map((rep) =>
      rep
        .split(enc.component)
        .map((comp) =>
          comp.split(enc.subcomponent).map((sub) => (sub === '""' ? '' : decodeEscapes(sub, enc))),
        ),
    );
  return { raw, repetitions };
}

function literal(value: string): Hl7Field {
  return { raw: value, repetitions: [[[value]]] };
}

/** Strips a UTF-8 BOM and MLLP framing characters. */
function unwrap(text: string): string {
  let start = 0;
  while (start < text.length && (text[start] === '\uFEFF' || text[start] === '\x0b')) start++;
  let end = text.length;
  while (end > start && (text[end - 1] === '\x1c' || text[end - 1] === '\x0b')) end--;
  return text.slice(start, end);
}

/**
 * Parses an HL7 v2 message. Segments may be separated by CR, LF or CRLF; a leading UTF-8 BOM and
 * MLLP framing are ignored. Throws {@link Hl7ParseError} for a message that has no usable MSH
 * (empty input, first segment not MSH, bad MSH-1/MSH-2, no MSH-9) or holds more than one message.
 */
export function parseHl7(text: string, options: ParseHl7Options = {}): Hl7Message {
  if (typeof text !== 'string') {
    throw new Hl7ParseError('WARD_HL7_EMPTY_MESSAGE', 'the message is not text', {
      segment: 'MSH',
      field: 'MSH-1',
    });
  }
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    throw new Hl7ParseError(
      'WARD_HL7_MESSAGE_TOO_LARGE',
      `the message is longer than ${maxLength} characters`,
      {
        segment: 'MSH',
        field: 'MSH-1',
      },
    );
  }
  const lines = unwrap(text)
    .split(/\r\n|\r|\n/)
    .map((line, number) => ({ line, number }))
    .filter(({ line }) => line.trim() !== '');
  const first = lines[0];
  if (!first) {
    throw new Hl7ParseError(
      'WARD_HL7_EMPTY_MESSAGE',
      'the message is empty; it must start with an MSH segment',
      {
        segment: 'MSH',
        field: 'MSH-1',
      },
    );
  }
  if (!first.line.startsWith('MSH')) {
    throw new Hl7ParseError('WARD_HL7_MISSING_MSH', 'the first segment is not MSH', {
      segment: 'MSH',
      field: 'MSH-1',
    });
  }
  const encoding = readEncoding(first.line);
  const findings: Hl7Finding[] = [];
  const segments: Hl7Segment[] = [];

  for (const { line, number } of lines) {
    const name = line.slice(0, 3);
    if (!SEGMENT_ID.test(name) || (line.length > 3 && line[3] !== encoding.field)) {
      findings.push({
        severity: 'warning',
        code: 'HL7_UNPARSEABLE_LINE',
        message: `Line ${number + 1} is not an HL7 segment and was skipped.`,
      });
      continue;
    }
    const index = segments.length;
    if (name === 'MSH' && index > 0) {
      throw new Hl7ParseError(
        'WARD_HL7_MULTIPLE_MESSAGES',
        'a second MSH segment was found; send one message at a time',
        {
          segment: 'MSH',
          field: 'MSH-1',
          segmentIndex: index,
        },
      );
    }
    const parts = line.split(encoding.field);
    const fields =
      name === 'MSH'
        ? [
            literal(encoding.field),
            literal(parts[1] ?? ''),
            ...parts.slice(2).map((raw) => parseField(raw, encoding)),
          ]
        : parts.slice(1).map((raw) => parseField(raw, encoding));
    segments.push(new Hl7Segment(name, index, fields));
  }

  const msh = segments[0]!;
  const messageCode = msh.value(9, 1);
  if (messageCode === '') {
    throw new Hl7ParseError('WARD_HL7_MISSING_MESSAGE_TYPE', 'the message type (MSH-9.1) is missing', {
      segment: 'MSH',
      field: 'MSH-9',
      segmentIndex: 0,
    });
  }
  return {
    encoding,
    segments,
    messageCode,
    triggerEvent: msh.value(9, 2),
    messageStructure: msh.value(9, 3),
    controlId: msh.value(10),
    version: msh.value(12, 1),
    findings,
  };
}
