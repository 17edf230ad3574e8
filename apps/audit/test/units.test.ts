import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical.js';
import { csvField } from '../src/csv.js';
import { ulidToUuid } from '../src/fhir.js';
import { decodeCursor, encodeCursor } from '../src/query.js';

describe('canonicalJson', () => {
  it('sorts keys, drops undefined, keeps no whitespace, and is stable', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1.5, y: -0 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":0,"z":1.5}}',
    );
    expect(canonicalJson({ '\u00e9': 1, e: 2, E: 3 })).toBe('{"E":3,"e":2,"é":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    // Integer-like keys sort as strings, not as JavaScript orders them.
    expect(canonicalJson({ b: { '10': 1, '9': 2, a: 3 } })).toBe('{"b":{"10":1,"9":2,"a":3}}');
    expect(canonicalJson([undefined, { x: [1, { '2': 0 }] }])).toBe('[null,{"x":[1,{"2":0}]}]');
  });
});

describe('csvField', () => {
  it('quotes separators and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(-3)).toBe('-3');
    expect(csvField(undefined)).toBe('');
  });
});

describe('ulidToUuid', () => {
  it('writes the 128 bits of a ULID as a UUID', () => {
    expect(ulidToUuid('00000000000000000000000000')).toBe('00000000-0000-0000-0000-000000000000');
    expect(ulidToUuid('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(ulidToUuid('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe('01563e3a-b5d3-d676-4c61-efb99302bd5b');
  });
});

describe('cursors', () => {
  it('round-trip and refuse foreign or other-order cursors', () => {
    expect(decodeCursor(encodeCursor('desc', 42), 'desc')).toBe(42);
    expect(() => decodeCursor(encodeCursor('desc', 42), 'asc')).toThrow(/cursor/);
    expect(() => decodeCursor('garbage', 'desc')).toThrow(/cursor/);
  });
});
