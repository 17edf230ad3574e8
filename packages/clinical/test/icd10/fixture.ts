import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lines copied byte for byte from the CMS FY2026 order file: headers (flag 0) and billable codes (flag 1). */
export const FIXTURE_LINES = [
  '00001 A00     0 Cholera                                                      Cholera',
  '00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae           Cholera due to Vibrio cholerae 01, biovar cholerae',
  '04301 E11     0 Type 2 diabetes mellitus                                     Type 2 diabetes mellitus',
  '04413 E1165   1 Type 2 diabetes mellitus with hyperglycemia                  Type 2 diabetes mellitus with hyperglycemia',
  '04416 E119    1 Type 2 diabetes mellitus without complications               Type 2 diabetes mellitus without complications',
  '11580 I10     1 Essential (primary) hypertension                             Essential (primary) hypertension',
  '75641 T360X1A 1 Poisoning by penicillins, accidental (unintentional), init   Poisoning by penicillins, accidental (unintentional), initial encounter',
];

/** The complete FY2026 file, shared by every checkout at /work/shared/data/icd10cm. */
export const FULL_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../../shared/data/icd10cm/icd10cm_order_2026.txt',
);

/** Writes `lines` as a CMS order file (CRLF line endings, trailing CRLF) and returns its path. */
export async function writeOrderFile(
  dir: string,
  name: string,
  lines: readonly string[] = FIXTURE_LINES,
): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, lines.map((l) => `${l}\r\n`).join(''), 'latin1');
  return file;
}
