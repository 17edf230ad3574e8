import { performance } from 'node:perf_hooks';

export type Json = Record<string, any>;

/** POSTs JSON and returns the response. */
export function post(base: string, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), ...init });
}

/** POSTs JSON and parses a JSON answer. */
export async function postJson(
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await post(base, path, body);
  return { status: res.status, body: (await res.json()) as Json };
}

/** Reads an NDJSON body line by line, noting when each line arrived. */
export async function readNdjson(res: Response): Promise<Array<{ at: number; value: Json }>> {
  const out: Array<{ at: number; value: Json }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') out.push({ at: performance.now(), value: JSON.parse(line) as Json });
      nl = buffer.indexOf('\n');
    }
  }
  if (buffer.trim() !== '') out.push({ at: performance.now(), value: JSON.parse(buffer) as Json });
  return out;
}

/** Polls until the check passes or the time runs out. */
export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The fields Ollama puts on the final chunk of a generation, all integers. */
export const STAT_FIELDS = [
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
] as const;
