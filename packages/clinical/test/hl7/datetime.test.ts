import { describe, expect, it } from 'vitest';
import { parseHl7Timestamp, toFhirDate, toFhirDateTime, toFhirInstant } from '../../src/hl7/index.js';

function ok(text: string) {
  const parsed = parseHl7Timestamp(text);
  if (parsed.kind !== 'ok') throw new Error(`expected ${text} to parse`);
  return parsed.value;
}

describe('HL7 timestamps → FHIR', () => {
  it.each([
    ['2014', 'year', '2014'],
    ['201410', 'month', '2014-10'],
    ['20141006', 'day', '2014-10-06'],
  ] as const)('keeps date precision of %s', (text, precision, fhir) => {
    const ts = ok(text);
    expect(ts.precision).toBe(precision);
    expect(toFhirDateTime(ts)).toEqual({ value: fhir, timeDropped: false });
    expect(toFhirDate(ts)).toBe(fhir);
  });

  it.each([
    ['2014100609+0700', '2014-10-06T09:00:00+07:00'],
    ['201410060929+0700', '2014-10-06T09:29:00+07:00'],
    ['20141006092959-0215', '2014-10-06T09:29:59-02:15'],
    ['20210817151943.4+0200', '2021-08-17T15:19:43.4+02:00'],
    ['20210817151943.1234+0000', '2021-08-17T15:19:43.1234+00:00'],
  ])('converts %s with its own offset', (text, fhir) => {
    expect(toFhirDateTime(ok(text))).toEqual({ value: fhir, timeDropped: false });
  });

  it('uses the fallback offset for a time without one, and drops the time when there is none', () => {
    const ts = ok('20150208113419');
    expect(toFhirDateTime(ts, '+01:00')).toEqual({ value: '2015-02-08T11:34:19+01:00', timeDropped: false });
    expect(toFhirDateTime(ts)).toEqual({ value: '2015-02-08', timeDropped: true });
  });

  it('gives a date for PID-7 style birth timestamps', () => {
    expect(toFhirDate(ok('198808181126+0215'))).toBe('1988-08-18');
  });

  it('makes instants only from minute precision with an offset', () => {
    expect(toFhirInstant(ok('200203150730+0215'))).toBe('2002-03-15T07:30:00+02:15');
    expect(toFhirInstant(ok('2002031507+0215'))).toBeUndefined();
    expect(toFhirInstant(ok('20020315'))).toBeUndefined();
    expect(toFhirInstant(ok('200203150730'), 'Z')).toBe('2002-03-15T07:30:00Z');
  });

  it.each([
    '20241301',
    '20240230',
    '20230229',
    '20240431',
    '0000',
    '2024010124',
    '202401011260',
    '20240101121261',
    '2024-01-01',
    '20240101+2500',
    '20240101120000+0575',
    '20240101.5',
    '2024010112.5',
    'abcd',
    '2024 01',
  ])('rejects %s', (text) => {
    expect(parseHl7Timestamp(text).kind).toBe('invalid');
  });

  it('accepts leap days and treats blank as absent', () => {
    expect(toFhirDate(ok('20240229'))).toBe('2024-02-29');
    expect(toFhirDate(ok('20000229'))).toBe('2000-02-29');
    expect(parseHl7Timestamp('19000229').kind).toBe('invalid');
    expect(parseHl7Timestamp('  ').kind).toBe('absent');
  });
});
