import { describe, expect, it } from 'vitest';
import {
  fiscalYearFromFileName,
  Icd10FormatError,
  isValidIcd10Format,
  normalizeCode,
  parseOrderLine,
  toDottedCode,
} from '../../src/icd10/index.js';
import { FIXTURE_LINES } from './fixture.js';

function errorOf(line: string, lineNumber = 7): Icd10FormatError {
  try {
    parseOrderLine(line, lineNumber);
  } catch (err) {
    if (err instanceof Icd10FormatError) return err;
    throw err;
  }
  throw new Error('expected parseOrderLine to throw');
}

/** A valid line with one range of columns (1-based, inclusive) replaced. */
function withColumns(line: string, from: number, text: string): string {
  return line.slice(0, from - 1) + text + line.slice(from - 1 + text.length);
}

describe('parseOrderLine', () => {
  it('reads every field of a header line', () => {
    expect(parseOrderLine(FIXTURE_LINES[0]!, 1)).toEqual({
      orderNo: 1,
      code: 'A00',
      billable: false,
      shortDescription: 'Cholera',
      longDescription: 'Cholera',
    });
  });

  it('reads every field of a billable line with a 7-character code', () => {
    expect(parseOrderLine(FIXTURE_LINES[6]!, 7)).toEqual({
      orderNo: 75641,
      code: 'T360X1A',
      billable: true,
      shortDescription: 'Poisoning by penicillins, accidental (unintentional), init',
      longDescription: 'Poisoning by penicillins, accidental (unintentional), initial encounter',
    });
  });

  it('names the line and columns 1-5 when the order number is not five digits', () => {
    const err = errorOf(withColumns(FIXTURE_LINES[1]!, 1, '0000x'), 12);
    expect(err.message).toBe('line 12, column 1-5: order number must be 5 digits, found "0000x"');
    expect(err).toMatchObject({ code: 'WARD_ICD10_MALFORMED_LINE', line: 12, columns: '1-5' });
  });

  it('hints at the right file when given a line of icd10cm_codes_YYYY.txt', () => {
    expect(errorOf('A000    Cholera due to Vibrio cholerae 01, biovar cholerae').message).toMatch(
      /line 7, column 1-5: .*looks like icd10cm_codes_YYYY\.txt; import icd10cm_order_YYYY\.txt/,
    );
  });

  it('names columns 7-13 when the code is not an ICD-10-CM code', () => {
    expect(errorOf(withColumns(FIXTURE_LINES[1]!, 7, '1A00   ')).message).toBe(
      'line 7, column 7-13: "1A00   " is not an ICD-10-CM code without dot, left-justified',
    );
    expect(errorOf(withColumns(FIXTURE_LINES[1]!, 7, ' A000  ')).columns).toBe('7-13');
  });

  it('names column 15 when the billable flag is neither 0 nor 1', () => {
    expect(errorOf(withColumns(FIXTURE_LINES[1]!, 15, '2')).message).toBe(
      'line 7, column 15: billable flag must be 1 (billable) or 0 (header), found "2"',
    );
  });

  it('names the separator column that is not blank', () => {
    expect(errorOf(withColumns(FIXTURE_LINES[1]!, 16, 'x')).message).toBe(
      'line 7, column 16: expected a space, found "x"',
    );
    expect(errorOf(withColumns(FIXTURE_LINES[1]!, 77, 'x')).columns).toBe('77');
  });

  it('reports a truncated line with its length', () => {
    expect(errorOf(FIXTURE_LINES[1]!.slice(0, 40)).message).toBe(
      'line 7: line is 40 characters long; a CMS order line carries the long description from column 78',
    );
  });

  it('rejects empty descriptions and control characters such as tabs, naming the column', () => {
    expect(errorOf(withColumns(FIXTURE_LINES[0]!, 17, ' '.repeat(60))).columns).toBe('17-76');
    expect(errorOf(`${FIXTURE_LINES[0]!.slice(0, 77)}   `).columns).toBe('78-');
    const tab = errorOf(withColumns(FIXTURE_LINES[0]!, 20, '\t'));
    expect(tab.message).toMatch(/^line 7, column 20: unexpected control character U\+0009/);
  });
});

describe('ICD-10-CM code format', () => {
  it.each([
    'I10',
    'E11.9',
    'E119',
    'e11.65',
    'T36.0X1A',
    'T360X1A',
    'Z3A.00',
    'U07.1',
    ' M1A.0110 ',
    'QA0.0101',
  ])('accepts %j', (code) => {
    expect(isValidIcd10Format(code)).toBe(true);
  });

  it.each(['', 'I1', '10A', 'E1.19', 'E11.', 'E11..9', 'E11.12345', 'E11-9', '1E1.9', 'E+1.9', 'E11.9 x'])(
    'rejects %j',
    (code) => {
      expect(isValidIcd10Format(code)).toBe(false);
    },
  );

  it('converts between stored and display forms', () => {
    expect(toDottedCode('E1165')).toBe('E11.65');
    expect(toDottedCode('I10')).toBe('I10');
    expect(normalizeCode(' t36.0x1a ')).toBe('T360X1A');
  });

  it('reads the fiscal year from CMS and CDC file names only', () => {
    expect(fiscalYearFromFileName('/data/icd10cm_order_2026.txt')).toBe(2026);
    expect(fiscalYearFromFileName('icd10cm-order-2025.txt')).toBe(2025);
    expect(fiscalYearFromFileName('icd10cm_codes_2026.txt')).toBeUndefined();
  });
});
