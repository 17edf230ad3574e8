import { modelKey } from './catalog.js';

/** A forced error for {@link ScriptRule.error}. */
export interface ScriptError {
  /** HTTP status, e.g. 500 or 503. */
  status: number;
  /** Sent as `{"error": message}`. */
  message: string;
  /**
   * Stream this many tokens first, then send the error as the last NDJSON line (status stays 200),
   * as Ollama does for errors during generation. Non-streaming requests get the status after the delay.
   */
  afterTokens?: number;
}

/** Fixes the reply (or forces an error) for requests matching a model and prompt pattern. */
export interface ScriptRule {
  /** Exact model name (any spelling Ollama accepts) or a pattern tested against the requested name. */
  model?: string | RegExp;
  /** Substring of, or pattern tested against, the prompt (generate), last user message (chat) or first input (embed). */
  prompt?: string | RegExp;
  /** Limit the rule to one endpoint. */
  endpoint?: 'generate' | 'chat' | 'embed';
  /** The exact text to answer with; streamed split into word tokens. */
  reply?: string;
  /** Answer with this many generated tokens instead of the default length. */
  tokens?: number;
  /** Answer with this error instead of (or, with `afterTokens`, part way through) a reply. */
  error?: ScriptError;
  /** Extra wall-clock delay before the first token (or before the error). */
  delayMs?: number;
  /** Remove the rule after its first match. */
  once?: boolean;
}

/** A regular expression in JSON form, for rules sent over HTTP. */
export interface JsonRegExp {
  regex: string;
  flags?: string;
}

/** A {@link ScriptRule} as JSON: patterns are strings or `{ regex, flags }`. */
export type JsonScriptRule = Omit<ScriptRule, 'model' | 'prompt'> & {
  model?: string | JsonRegExp;
  prompt?: string | JsonRegExp;
};

interface StoredRule {
  id: number;
  rule: ScriptRule;
  modelKey?: string;
}

const isJsonRegExp = (v: unknown): v is JsonRegExp =>
  typeof v === 'object' && v !== null && typeof (v as JsonRegExp).regex === 'string';

/** Converts a rule received as JSON into a {@link ScriptRule}; throws a readable error when malformed. */
export function scriptRuleFromJson(body: unknown): ScriptRule {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TypeError('script rule must be a JSON object');
  }
  const raw = body as Record<string, unknown>;
  const pattern = (name: 'model' | 'prompt'): string | RegExp | undefined => {
    const v = raw[name];
    if (v === undefined || typeof v === 'string') return v;
    if (isJsonRegExp(v)) return new RegExp(v.regex, v.flags);
    throw new TypeError(`${name} must be a string or {"regex": "...", "flags": "..."}`);
  };
  const rule: ScriptRule = {};
  const model = pattern('model');
  const prompt = pattern('prompt');
  if (model !== undefined) rule.model = model;
  if (prompt !== undefined) rule.prompt = prompt;
  if (raw.endpoint !== undefined) {
    if (raw.endpoint !== 'generate' && raw.endpoint !== 'chat' && raw.endpoint !== 'embed') {
      throw new TypeError('endpoint must be "generate", "chat" or "embed"');
    }
    rule.endpoint = raw.endpoint;
  }
  if (raw.reply !== undefined) {
    if (typeof raw.reply !== 'string') throw new TypeError('reply must be a string');
    rule.reply = raw.reply;
  }
  for (const key of ['tokens', 'delayMs'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TypeError(`${key} must be a number >= 0`);
    rule[key] = v;
  }
  if (raw.once !== undefined) rule.once = raw.once === true;
  if (raw.error !== undefined) {
    const e = raw.error as Record<string, unknown> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.status !== 'number' ||
      typeof e.message !== 'string'
    ) {
      throw new TypeError('error must be {"status": number, "message": string}');
    }
    rule.error = { status: e.status, message: e.message };
    if (typeof e.afterTokens === 'number') rule.error.afterTokens = e.afterTokens;
  }
  return rule;
}

/** The ordered list of script rules of one sim; the first matching rule wins. */
export class ScriptBook {
  #rules: StoredRule[] = [];
  #nextId = 1;

  add(rule: ScriptRule): number {
    const id = this.#nextId++;
    const stored: StoredRule = { id, rule };
    if (typeof rule.model === 'string') stored.modelKey = modelKey(rule.model);
    this.#rules.push(stored);
    return id;
  }

  remove(id: number): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }

  clear(): void {
    this.#rules = [];
  }

  get size(): number {
    return this.#rules.length;
  }

  /** Finds (and, for `once` rules, consumes) the rule for a request. */
  match(endpoint: 'generate' | 'chat' | 'embed', model: string, text: string): ScriptRule | undefined {
    if (this.#rules.length === 0) return undefined;
    for (let i = 0; i < this.#rules.length; i++) {
      const { rule, modelKey: key } = this.#rules[i]!;
      if (rule.endpoint !== undefined && rule.endpoint !== endpoint) continue;
      if (key !== undefined && key !== modelKey(model)) continue;
      if (rule.model instanceof RegExp && !testPattern(rule.model, model)) continue;
      if (typeof rule.prompt === 'string' && !text.includes(rule.prompt)) continue;
      if (rule.prompt instanceof RegExp && !testPattern(rule.prompt, text)) continue;
      if (rule.once) this.#rules.splice(i, 1);
      return rule;
    }
    return undefined;
  }
}

function testPattern(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}
