import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractVitals, isPlausible } from '../../src/soap/vitals.js';

function simple(text: string) {
  return extractVitals(text).map(({ name, value, unit }) => ({ name, value, unit }));
}

describe('extractVitals', () => {
  it('extracts BP and HR from the guide scenario and ignores the age', () => {
    expect(simple('65-year-old man with chest pain, BP 150/95, HR 88')).toEqual([
      { name: 'systolic_bp', value: 150, unit: 'mmHg' },
      { name: 'diastolic_bp', value: 95, unit: 'mmHg' },
      { name: 'heart_rate', value: 88, unit: 'bpm' },
    ]);
  });

  it('reads labelled and unlabelled forms with units', () => {
    const text =
      'Blood pressure was 128/76 mmHg, pulse 72 bpm, RR 18, Temp 38.4 °C, SpO2 94% on room air, weight 82 kg, height 178 cm.';
    expect(simple(text)).toEqual([
      { name: 'systolic_bp', value: 128, unit: 'mmHg' },
      { name: 'diastolic_bp', value: 76, unit: 'mmHg' },
      { name: 'heart_rate', value: 72, unit: 'bpm' },
      { name: 'respiratory_rate', value: 18, unit: 'breaths/min' },
      { name: 'temperature', value: 38.4, unit: '°C' },
      { name: 'spo2', value: 94, unit: '%' },
      { name: 'weight', value: 82, unit: 'kg' },
      { name: 'height', value: 178, unit: 'cm' },
    ]);
  });

  it('reads Fahrenheit, pounds, feet and inches, and infers °F from the value when no unit is given', () => {
    expect(simple('T 101.2F, wt 180 lbs, 5\'10", temperature 99.1')).toEqual([
      { name: 'temperature', value: 101.2, unit: '°F' },
      { name: 'weight', value: 180, unit: 'lb' },
      { name: 'height', value: 70, unit: 'in' },
      { name: 'temperature', value: 99.1, unit: '°F' },
    ]);
  });

  it('does not read vertebral levels, diabetes types or ECG intervals as vitals', () => {
    expect(simple('T12 compression fracture, T2DM on metformin 500 mg, PR interval 160 ms')).toEqual([]);
    expect(simple('She sat 3 hours in the waiting room; sats 96% on air')).toEqual([
      { name: 'spo2', value: 96, unit: '%' },
    ]);
  });

  it('returns one reading per mention', () => {
    expect(simple('BP 150/95 on arrival, repeat BP 140/90').map((v) => v.value)).toEqual([150, 95, 140, 90]);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(Array.isArray(extractVitals(text))).toBe(true);
      }),
    );
  });

  it('round-trips any blood pressure written as "BP s/d"', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 999 }), fc.integer({ min: 10, max: 999 }), (s, d) => {
        expect(simple(`Vitals: BP ${s}/${d} mmHg.`)).toEqual([
          { name: 'systolic_bp', value: s, unit: 'mmHg' },
          { name: 'diastolic_bp', value: d, unit: 'mmHg' },
        ]);
      }),
    );
  });
});

describe('isPlausible', () => {
  it('applies the ranges in base units', () => {
    expect(isPlausible({ name: 'temperature', value: 98.6, unit: '°F' })).toBe(true);
    expect(isPlausible({ name: 'temperature', value: 120, unit: '°F' })).toBe(false);
    expect(isPlausible({ name: 'temperature', value: 50, unit: '°C' })).toBe(false);
    expect(isPlausible({ name: 'heart_rate', value: 19, unit: 'bpm' })).toBe(false);
    expect(isPlausible({ name: 'heart_rate', value: 301, unit: 'bpm' })).toBe(false);
    expect(isPlausible({ name: 'systolic_bp', value: 49, unit: 'mmHg' })).toBe(false);
    expect(isPlausible({ name: 'spo2', value: 101, unit: '%' })).toBe(false);
    expect(isPlausible({ name: 'weight', value: 180, unit: 'lb' })).toBe(true);
  });
});
