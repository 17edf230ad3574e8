import { Icd10FormatError } from './errors.js';
import type { Icd10OrderRow } from './types.js';

/** Stored code shape: a letter, then 2-6 letters or digits (FY2026 added `QA0`, a letter second). */
const STORED_CODE = /^[A-Z][0-9A-Z]{2,6}$/;
// Tabs, stray carriage returns and other control characters never occur in the CMS file.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const MIN_LENGTH = 78;

function spaceAt(line: string, lineNumber: number, column: number): void {
  const c = line[column - 1];
  if (c !== ' ') {
    throw new Icd10FormatError(lineNumber, String(column), `expected a space, found ${JSON.stringify(c)}`);
  }
}

/**
 * Parses one line of the CMS `icd10cm_order_YYYY.txt` fixed-width file (without its line ending):
 * order number (columns 1-5), code without dot (7-13), `1` billable / `0` header (15), short
 * description (17-76), long description (78 to the end).
 * @throws {Icd10FormatError} naming the line number and the column at fault.
 */
export function parseOrderLine(line: string, lineNumber: number): Icd10OrderRow {
  const control = CONTROL.exec(line);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new Icd10FormatError(
      lineNumber,
      String(control.index + 1),
      `unexpected control character U+${code}; the CMS order file is fixed-width text without tabs`,
    );
  }
  const orderText = line.slice(0, 5);
  if (!/^\d{5}$/.test(orderText)) {
    const hint = /^[A-Z][0-9]/.test(line)
      ? ' (this looks like icd10cm_codes_YYYY.txt; import icd10cm_order_YYYY.txt, "Code Descriptions in Tabular Order")'
      : '';
    throw new Icd10FormatError(
      lineNumber,
      '1-5',
      `order number must be 5 digits, found ${JSON.stringify(orderText)}${hint}`,
    );
  }
  if (line.length < MIN_LENGTH) {
    throw new Icd10FormatError(
      lineNumber,
      undefined,
      `line is ${line.length} characters long; a CMS order line carries the long description from column 78`,
    );
  }
  spaceAt(line, lineNumber, 6);
  const code = line.slice(6, 13).trimEnd();
  if (!STORED_CODE.test(code)) {
    throw new Icd10FormatError(
      lineNumber,
      '7-13',
      `${JSON.stringify(line.slice(6, 13))} is not an ICD-10-CM code without dot, left-justified`,
    );
  }
  spaceAt(line, lineNumber, 14);
  const flag = line[14];
  if (flag !== '0' && flag !== '1') {
    throw new Icd10FormatError(
      lineNumber,
      '15',
      `billable flag must be 1 (billable) or 0 (header), found ${JSON.stringify(flag)}`,
    );
  }
  spaceAt(line, lineNumber, 16);
  const shortDescription = line.slice(16, 76).trim();
  if (shortDescription === '') throw new Icd10FormatError(lineNumber, '17-76', 'short description is empty');
  spaceAt(line, lineNumber, 77);
  const longDescription = line.slice(77).trim();
  if (longDescription === '') throw new Icd10FormatError(lineNumber, '78-', 'long description is empty');
  return {
    orderNo: Number(orderText),
    code,
    billable: flag === '1',
    shortDescription,
    longDescription,
  };
}
