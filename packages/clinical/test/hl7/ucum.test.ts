import { describe, expect, it } from 'vitest';
import { isUcumUnit } from '../../src/hl7/index.js';

describe('isUcumUnit', () => {
  it.each([
    '%',
    'mg/dL',
    'mmol/L',
    '10*9/L',
    '10*3/uL',
    '/min',
    '{beats}/min',
    'mm[Hg]',
    'kg/m2',
    'mL/min/{1.73_m2}',
    '[IU]/L',
    'U/L',
    'Cel',
    '[degF]',
    'fL',
    'g/dL',
    's-1',
    'meq/L',
    'ng/mL',
    'g/l-1',
  ])('accepts %s', (unit) => {
    expect(isUcumUnit(unit)).toBe(true);
  });

  it.each(['beats/min', 'tera.l-1', 'giga.l-1', 'MG/DL', 'lb', 'mg dL', '', '10*', '(mg', 'mg/{x'])(
    'rejects %s',
    (unit) => {
      expect(isUcumUnit(unit)).toBe(false);
    },
  );
});
