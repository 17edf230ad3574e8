/**
 * Ollama model names: `name`, `name:tag`, `namespace/name:tag` or `host/namespace/name:tag`.
 * Letters, digits and `._-` in each part; no `..`, no leading `/`, no control characters.
 */
export const MODEL_NAME_PATTERN =
  '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}(/[A-Za-z0-9][A-Za-z0-9._-]{0,79}){0,2}(:[A-Za-z0-9][A-Za-z0-9._-]{0,79})?$';
const MODEL_NAME_RE = new RegExp(MODEL_NAME_PATTERN);

/** True when `name` is a well-formed Ollama model name that is safe to use in a queue or key name. */
export function isModelName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 200 && MODEL_NAME_RE.test(name) && !name.includes('..');
}
