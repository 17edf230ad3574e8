import { createHash } from 'node:crypto';
import type { ModelSpec, ModelsOption, NamedModelSpec } from './options.js';

/** An installed model with every detail filled in. */
export interface ModelEntry {
  /** Lookup key: lower case, registry prefix dropped, `:latest` added when untagged. */
  key: string;
  /** Name as listed by /api/tags, e.g. `mistral:7b`. */
  name: string;
  vision: boolean;
  requiresImages: boolean;
  embedding: boolean;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
  size: number;
  digest: string;
  modified_at: string;
  context_length: number;
  embedding_length: number;
  numParallel?: number;
  genTokensPerSec?: number;
  promptTokensPerSec?: number;
  loadTimeMs?: number;
}

const REGISTRY_PREFIXES = ['registry.ollama.ai/library/', 'registry.ollama.ai/', 'library/'];

/** The display form Ollama uses: registry prefix dropped, `:latest` added when untagged. */
export function displayName(raw: string): string {
  let name = raw.trim();
  for (const prefix of REGISTRY_PREFIXES) {
    if (name.toLowerCase().startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  const lastSlash = name.lastIndexOf('/');
  if (!name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name;
}

/** The key a model is stored under; Ollama matches names case-insensitively. */
export function modelKey(raw: string): string {
  return displayName(raw).toLowerCase();
}

/** Whether a string can name a model: non-empty, no whitespace, sane characters. */
export function isValidModelName(raw: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._\-/:]*$/.test(raw.trim()) && !raw.trim().endsWith(':');
}

const VISION_PATTERN = /llava|vision|bakllava|moondream/i;
const EMBEDDING_PATTERN = /embed|minilm|bge-|mxbai|snowflake-arctic/i;

const FAMILIES: ReadonlyArray<[RegExp, string]> = [
  [/^(bak)?llava/, 'llama'],
  [/^moondream/, 'phi2'],
  [/^(mistral|mixtral|codellama|llama|vicuna|orca|tinyllama|meditron)/, 'llama'],
  [/^qwen3/, 'qwen3'],
  [/^qwen/, 'qwen2'],
  [/^gemma3/, 'gemma3'],
  [/^gemma/, 'gemma'],
  [/^phi3|^phi4/, 'phi3'],
  [/^phi/, 'phi2'],
  [/^nomic-embed/, 'nomic-bert'],
  [/^(all-minilm|bge|mxbai|snowflake)/, 'bert'],
  [/^deepseek/, 'qwen2'],
];

function familyOf(base: string): string {
  for (const [pattern, family] of FAMILIES) if (pattern.test(base)) return family;
  return base.replace(/[\d.:-]+$/, '') || base;
}

function parameterSizeOf(name: string, embedding: boolean): string {
  const match = /(\d+(?:\.\d+)?)\s*([bm])(?![a-z])/i.exec(name.split('/').pop() ?? name);
  if (match) return `${match[1]}${match[2]!.toUpperCase()}`;
  return embedding ? '137M' : '7B';
}

function parameterCount(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([BM])$/.exec(size);
  if (!match) return 7e9;
  return Number(match[1]) * (match[2] === 'B' ? 1e9 : 1e6);
}

/** Builds a complete entry from a name and an optional partial spec. */
export function makeEntry(rawName: string, spec: ModelSpec = {}, modifiedAt = new Date()): ModelEntry {
  const name = displayName(rawName);
  const key = name.toLowerCase();
  const base = key.split('/').pop()!.split(':')[0]!;
  const embedding = spec.embedding ?? EMBEDDING_PATTERN.test(key);
  const vision = spec.vision ?? (!embedding && VISION_PATTERN.test(key));
  const family = spec.family ?? familyOf(base);
  const parameter_size = spec.parameter_size ?? parameterSizeOf(key, embedding);
  const params = parameterCount(parameter_size);
  const entry: ModelEntry = {
    key,
    name,
    vision,
    requiresImages: spec.requiresImages ?? false,
    embedding,
    family,
    families: spec.families ?? (vision ? [family, 'clip'] : [family]),
    parameter_size,
    quantization_level: spec.quantization_level ?? (embedding ? 'F16' : 'Q4_K_M'),
    size: spec.size ?? Math.round(params * (embedding ? 2 : 0.6) + (vision ? 624_434_368 : 0)),
    digest: spec.digest ?? createHash('sha256').update(`ollama-sim:${key}`).digest('hex'),
    modified_at: spec.modified_at ?? modifiedAt.toISOString(),
    context_length: spec.context_length ?? (embedding ? 8192 : 32768),
    embedding_length: spec.embedding_length ?? 384,
  };
  if (spec.numParallel !== undefined) entry.numParallel = spec.numParallel;
  if (spec.genTokensPerSec !== undefined) entry.genTokensPerSec = spec.genTokensPerSec;
  if (spec.promptTokensPerSec !== undefined) entry.promptTokensPerSec = spec.promptTokensPerSec;
  if (spec.loadTimeMs !== undefined) entry.loadTimeMs = spec.loadTimeMs;
  return entry;
}

/** Normalises the `models` option into name → spec pairs. */
export function specsOf(models: ModelsOption): Array<[string, ModelSpec]> {
  if (Array.isArray(models)) {
    return (models as ReadonlyArray<string | NamedModelSpec>).map((m) => {
      if (typeof m === 'string') return [m, {}];
      const { name, ...spec } = m;
      return [name, spec];
    });
  }
  return Object.entries(models as Readonly<Record<string, ModelSpec>>);
}

/** The installed models of one sim: lookup by any accepted spelling of a name. */
export class ModelCatalog {
  readonly #entries = new Map<string, ModelEntry>();

  constructor(models: ModelsOption, modifiedAt = new Date()) {
    for (const [name, spec] of specsOf(models)) this.add(name, spec, modifiedAt);
  }

  /** Installs (or replaces) a model. */
  add(name: string, spec: ModelSpec = {}, modifiedAt = new Date()): ModelEntry {
    const entry = makeEntry(name, spec, modifiedAt);
    this.#entries.set(entry.key, entry);
    return entry;
  }

  get(name: string): ModelEntry | undefined {
    return this.#entries.get(modelKey(name));
  }

  remove(name: string): boolean {
    return this.#entries.delete(modelKey(name));
  }

  list(): ModelEntry[] {
    return [...this.#entries.values()];
  }
}
