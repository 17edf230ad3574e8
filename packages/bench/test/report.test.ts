import { describe, expect, it } from 'vitest';
import { markdownTable, ms } from '../src/report.js';

describe('markdownTable', () => {
  it('pads columns, right-aligns numbers and escapes pipes', () => {
    const t = markdownTable(
      ['Path', 'p50 ms'],
      [
        ['a|b', '1.23'],
        ['sim', '10.5'],
      ],
      ['left', 'right'],
    );
    expect(t.split('\n')).toEqual([
      '| Path | p50 ms |',
      '| ---- | -----: |',
      '| a\\|b |   1.23 |',
      '| sim  |   10.5 |',
    ]);
  });
});

describe('ms', () => {
  it('keeps about three significant digits and shows a dash for missing values', () => {
    expect([ms(0.2812), ms(2.281), ms(24.33), ms(201.4), ms(Number.NaN)]).toEqual([
      '0.281',
      '2.28',
      '24.3',
      '201',
      '–',
    ]);
  });
});
