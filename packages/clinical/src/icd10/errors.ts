/** Stable codes of the errors the ICD-10-CM module raises. */
export type Icd10ErrorCode =
  | 'WARD_ICD10_MALFORMED_LINE'
  | 'WARD_ICD10_FISCAL_YEAR'
  | 'WARD_ICD10_EMPTY_FILE'
  | 'WARD_ICD10_NOT_IMPORTED';

/** An ICD-10-CM import or load problem, with a stable `code`. */
export class Icd10Error extends Error {
  readonly code: Icd10ErrorCode;
  constructor(code: Icd10ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Icd10Error';
    this.code = code;
  }
}

/** A line of a CMS order file that does not follow the fixed-width layout; names the line and columns. */
export class Icd10FormatError extends Icd10Error {
  /** 1-based line number in the file. */
  readonly line: number;
  /** 1-based column range of the problem, e.g. `7-13`, when it is about one field. */
  readonly columns: string | undefined;
  constructor(line: number, columns: string | undefined, problem: string) {
    super('WARD_ICD10_MALFORMED_LINE', `line ${line}${columns ? `, column ${columns}` : ''}: ${problem}`);
    this.name = 'Icd10FormatError';
    this.line = line;
    this.columns = columns;
  }
}
