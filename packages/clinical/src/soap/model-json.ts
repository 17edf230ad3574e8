/** Helpers for reading model output that should be JSON but arrives as `unknown`. */

/**
 * Accepts a parsed value or a JSON string (what Ollama puts in `message.content`).
 * Returns `undefined` when a string is not valid JSON.
 */
export function parseModelJson(modelOutput: unknown): unknown {
  if (typeof modelOutput !== 'string') return modelOutput;
  try {
    return JSON.parse(modelOutput) as unknown;
  } catch {
    return undefined;
  }
}

/** True for plain JSON objects (not arrays, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A trimmed non-empty string, or `undefined`. */
export function nonEmptyString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}
