import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertHl7ToFhir, Hl7ParseError, validateBundle } from '../../src/hl7/index.js';
import { fixtureNames, readFixture } from './fixtures.js';

/** Every message an Hl7ParseError can carry: fixed wording around field names, never input text. */
const SAFE_MESSAGE = new RegExp(
  `^[A-Z][A-Z0-9]{2}-\\d+: (${[
    'the message is not text',
    'the message is longer than \\d+ characters',
    'the message is empty; it must start with an MSH segment',
    'the first segment is not MSH',
    'the field separator after MSH is missing or is a letter, digit or space',
    'the encoding characters must be 4 \\(or 5, with truncation\\) characters',
    'the encoding characters must be distinct punctuation, different from MSH-1',
    'a second MSH segment was found; send one message at a time',
    'the message type \\(MSH-9\\.1\\) is missing',
    'the trigger event \\(MSH-9\\.2\\) is missing',
    '[A-Z0-9]{3}\\^[A-Z0-9]{2,3} is not supported',
    'this message type is not supported',
    '(MSH|PID)-7 is not a valid HL7 date',
    'the message has no PID segment \\(patient identification\\)',
    'OBX-3 \\(observation identifier\\) is missing',
    'OBR-4 \\(universal service identifier\\) is missing',
  ].join('|')})( \\(segment \\d+\\))?$`,
);

/** Names and ids from the fixtures that must never surface in an error. */
const FIXTURE_CANARIES = ['EVERYMAN', 'DUCK', 'DONALD', 'Huckleberry', 'PROSOLV', 'PATID1234', '10006579'];

/**
 * Converts `text`; it must either succeed with a bundle that validates, or throw an
 * Hl7ParseError (not the catch-all for internal failures) whose message is one of the templates.
 */
function checkConversion(text: string): void {
  let result: ReturnType<typeof convertHl7ToFhir>;
  try {
    result = convertHl7ToFhir(text);
  } catch (error) {
    if (!(error instanceof Hl7ParseError)) throw error;
    if (error.code === 'WARD_HL7_CONVERSION_FAILED') throw error.cause;
    expect(error.message).toMatch(SAFE_MESSAGE);
    for (const canary of FIXTURE_CANARIES) expect(error.message).not.toContain(canary);
    return;
  }
  expect(validateBundle(result.bundle).filter((f) => f.severity === 'error')).toEqual([]);
}

const DELIMITERS = ['|', '^', '~', '\\', '&', '\r', '\n', '#', ' '];

type Mutation =
  | { kind: 'delete' | 'duplicate'; at: number; length: number }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'swapSeparators'; from: string; to: string }
  | { kind: 'replaceOne'; at: number; char: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'dropLine' | 'duplicateLine' | 'swapLines'; at: number; other: number };

const position = fc.nat({ max: 100_000 });
const delimiter = fc.constantFrom(...DELIMITERS);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('delete', 'duplicate'),
    at: position,
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('insert'),
    at: position,
    char: fc.oneof(delimiter, fc.string({ minLength: 1, maxLength: 1 })),
  }),
  fc.record({ kind: fc.constant('swapSeparators'), from: delimiter, to: delimiter }),
  fc.record({ kind: fc.constant('replaceOne'), at: position, char: delimiter }),
  fc.record({ kind: fc.constant('truncate'), at: position }),
  fc.record({
    kind: fc.constantFrom('dropLine', 'duplicateLine', 'swapLines'),
    at: position,
    other: position,
  }),
) as fc.Arbitrary<Mutation>;

function mutate(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : 'at' in m ? m.at % text.length : 0;
  switch (m.kind) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length);
    case 'duplicate':
      return text.slice(0, at + m.length) + text.slice(at, at + m.length) + text.slice(at + m.length);
    case 'insert':
      return text.slice(0, at) + m.char + text.slice(at);
    case 'swapSeparators':
      return text.split(m.from).join(m.to);
    case 'replaceOne': {
      const hits = [...text.matchAll(/[|^~\\&]/g)].map((x) => x.index ?? 0);
      const hit = hits.length > 0 ? hits[m.at % hits.length]! : at;
      return text.slice(0, hit) + m.char + text.slice(hit + 1);
    }
    case 'truncate':
      return text.slice(0, at);
    default: {
      const lines = text.split(/\r\n|\r|\n/);
      const i = m.at % lines.length;
      const j = m.other % lines.length;
      if (m.kind === 'dropLine') lines.splice(i, 1);
      else if (m.kind === 'duplicateLine') lines.splice(i, 0, lines[i]!);
      else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\r');
    }
  }
}

const fixtures = fixtureNames().map(readFixture);

describe('convertHl7ToFhir under fuzzing', () => {
  it('throws only Hl7ParseError for random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (text) => {
        checkConversion(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('throws only Hl7ParseError for random segment soup behind an MSH', () => {
    const segmentId = fc.constantFrom(
      'MSH',
      'PID',
      'PV1',
      'OBR',
      'OBX',
      'NTE',
      'AL1',
      'DG1',
      'SPM',
      'ORC',
      'ZZZ',
      'pid',
    );
    const field = fc.string({ maxLength: 20, unit: fc.constantFrom(...'|^~\\&AZaz09.+-/: XF'.split('')) });
    const segment = fc
      .tuple(segmentId, fc.array(field, { maxLength: 25 }))
      .map(([id, fields]) => [id, ...fields].join('|'));
    const type = fc.constantFrom(
      'ADT^A01',
      'ADT^A03',
      'ADT^A08',
      'ORU^R01',
      'ORM^O01',
      'MDM^T02',
      'ACK',
      '',
      'ADT',
    );
    fc.assert(
      fc.property(type, fc.array(segment, { maxLength: 15 }), (messageType, segments) => {
        const msh = `MSH|^~\\&|APP|FAC|||20240101120000+0100||${messageType}|C1|P|2.5`;
        checkConversion([msh, ...segments].join('\r'));
      }),
      { numRuns: 1500 },
    );
  });

  it('throws only Hl7ParseError, or validates, for mutated fixtures', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: fixtures.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (i, mutations) => {
          checkConversion(mutations.reduce(mutate, fixtures[i]!));
        },
      ),
      { numRuns: 2500 },
    );
  });

  it('converts each mutated message the same way twice', () => {
    fc.assert(
      fc.property(fc.nat({ max: fixtures.length - 1 }), mutation, (i, m) => {
        const text = mutate(fixtures[i]!, m);
        let first: unknown;
        let second: unknown;
        try {
          first = convertHl7ToFhir(text);
        } catch (error) {
          first = (error as Hl7ParseError).code;
        }
        try {
          second = convertHl7ToFhir(text);
        } catch (error) {
          second = (error as Hl7ParseError).code;
        }
        expect(second).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });
});
