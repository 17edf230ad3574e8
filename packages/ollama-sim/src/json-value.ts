import { phrase, type Rng } from './text.js';

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a `format` value is one the sim accepts: `"json"` or a JSON Schema object. */
export function isSupportedFormat(format: unknown): format is 'json' | Schema {
  return format === 'json' || isObject(format);
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (!isObject(node)) return undefined;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isObject(node) ? node : undefined;
}

function stringFor(schema: Schema, key: string, rng: Rng): string {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  let value: string;
  switch (schema.format) {
    case 'date-time':
      value = new Date(
        Date.UTC(2024, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59)),
      ).toISOString();
      break;
    case 'date':
      value = `2024-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
      break;
    case 'time':
      value = `${String(rng.int(0, 23)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:00`;
      break;
    case 'email':
      value = `${phrase(rng, 1, 1)}@example.org`;
      break;
    case 'uri':
    case 'url':
      value = `https://example.org/${phrase(rng, 1, 1)}`;
      break;
    case 'uuid': {
      const hex = () => rng.int(0, 0xffff).toString(16).padStart(4, '0');
      value = `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
      break;
    }
    default:
      value = /name$/i.test(key) ? 'Alex Morgan' : phrase(rng, 1, 5);
  }
  while (value.length < minLength) value += ` ${phrase(rng, 1, 2)}`;
  if (value.length > maxLength) value = value.slice(0, maxLength);
  return value;
}

function numberFor(schema: Schema, rng: Rng, integer: boolean): number {
  let min = typeof schema.minimum === 'number' ? schema.minimum : integer ? 0 : 0;
  let max = typeof schema.maximum === 'number' ? schema.maximum : Math.max(min, 100);
  if (typeof schema.exclusiveMinimum === 'number') min = schema.exclusiveMinimum + (integer ? 1 : 0.01);
  if (typeof schema.exclusiveMaximum === 'number') max = schema.exclusiveMaximum - (integer ? 1 : 0.01);
  if (max < min) max = min;
  if (integer) return rng.int(Math.ceil(min), Math.floor(max));
  return Math.round((min + rng.next() * (max - min)) * 100) / 100;
}

function valueFor(schema: unknown, key: string, rng: Rng, root: Schema, depth: number): unknown {
  if (!isObject(schema)) return phrase(rng, 1, 4);
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, root);
    return depth > 8 || !target ? null : valueFor(target, key, rng, root, depth + 1);
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return rng.pick(schema.enum);
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.filter((o) => !(isObject(o) && o.type === 'null'));
      return valueFor(nonNull[0] ?? options[0], key, rng, root, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged: Schema = { type: 'object', properties: {}, required: [] };
    for (const part of schema.allOf) {
      const p = isObject(part) && typeof part.$ref === 'string' ? resolveRef(part.$ref, root) : part;
      if (!isObject(p)) continue;
      Object.assign(merged.properties as Schema, isObject(p.properties) ? p.properties : {});
      (merged.required as unknown[]).push(...(Array.isArray(p.required) ? p.required : []));
      if (p.type !== undefined && p.type !== 'object') return valueFor(p, key, rng, root, depth + 1);
    }
    return valueFor(merged, key, rng, root, depth + 1);
  }
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? 'null';
  if (type === undefined) type = isObject(schema.properties) ? 'object' : schema.items ? 'array' : 'string';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
      if (depth > 8) return out;
      for (const [name, sub] of Object.entries(properties))
        out[name] = valueFor(sub, name, rng, root, depth + 1);
      for (const name of required) if (!(name in out)) out[name] = phrase(rng, 1, 3);
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 3);
      const n = depth > 8 ? 0 : rng.int(min, Math.max(min, Math.min(max, min + 2)));
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(valueFor(schema.items, key, rng, root, depth + 1));
      return items;
    }
    case 'integer':
      return numberFor(schema, rng, true);
    case 'number':
      return numberFor(schema, rng, false);
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    default:
      return stringFor(schema, key, rng);
  }
}

/** A value satisfying the schema's types, required properties, enums and simple bounds. */
export function valueForSchema(schema: Schema, rng: Rng): unknown {
  return valueFor(schema, '', rng, schema, 0);
}

/** The JSON text a model would answer with for `format` (`"json"` or a schema). */
export function jsonReply(format: 'json' | Schema, rng: Rng): string {
  if (format === 'json') {
    return JSON.stringify({ answer: phrase(rng, 4, 12), confidence: Math.round(rng.next() * 100) / 100 });
  }
  return JSON.stringify(valueForSchema(format, rng));
}
