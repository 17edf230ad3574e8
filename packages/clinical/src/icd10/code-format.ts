/**
 * ICD-10-CM structure: a letter, a digit, a letter or digit, then optionally a dot and 1-4 more
 * letters or digits (X as placeholder). FY2026 added the first category with a letter second
 * (`QA0`, neurodevelopmental disorders related to pathogenic variants), so the second character
 * may be a letter too.
 */
const CODE_FORMAT = /^[A-Z][0-9A-Z][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$/;

/** Stored form of a code: trimmed, upper case, without the dot (`e11.65` → `E1165`). */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase().replace('.', '');
}

/** Display form of a stored code: a dot after the third character when there are more (`E1165` → `E11.65`). */
export function toDottedCode(code: string): string {
  return code.length > 3 ? `${code.slice(0, 3)}.${code.slice(3)}` : code;
}

/**
 * Whether `code` has the shape of an ICD-10-CM code — `I10`, `E11.9`, `E119`, `T36.0X1A`, `QA0.0` — whether
 * or not it exists. Case-insensitive; surrounding spaces are ignored; the dot may only follow the
 * third character.
 */
export function isValidIcd10Format(code: string): boolean {
  return CODE_FORMAT.test(code.trim().toUpperCase());
}
