/**
 * Shared result types for Ward's clinical task validators.
 * Lives here until the task registry hoists it to the package root.
 */

/** How serious a validator finding is: `error` means the output must not be shown without correction. */
export type FindingSeverity = 'error' | 'warning' | 'info';

/**
 * One deterministic observation about a model's answer.
 * `message` never echoes patient data: it names rules, fields and ranges, and `path` says where.
 */
export interface Finding {
  severity: FindingSeverity;
  /** Stable, upper-snake-case code that clients and docs can rely on, e.g. `SOAP_SECTION_MISSING`. */
  code: string;
  message: string;
  /** Field path in the validated output (or input, when prefixed `input.`), e.g. `vitals[1]`. */
  path?: string;
}

/** What every `validate<Task>` returns: the output a clinician may see, and what the checks found. */
export interface ValidationResult<T> {
  output: T;
  findings: Finding[];
}
