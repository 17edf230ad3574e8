import { describe, expect, it } from 'vitest';
import { displayName, makeEntry, modelKey } from '../src/catalog.js';
import { parseKeepAlive } from '../src/duration.js';
import { valueForSchema } from '../src/json-value.js';
import { scriptRuleFromJson } from '../src/scripts.js';
import { Rng, splitJsonTokens, splitWords } from '../src/text.js';

describe('keep_alive parsing', () => {
  it('reads numbers as seconds, strings as Go durations, and negatives as forever', () => {
    expect(parseKeepAlive(30)).toEqual({ ms: 30_000 });
    expect(parseKeepAlive('5m')).toEqual({ ms: 300_000 });
    expect(parseKeepAlive('1h30m')).toEqual({ ms: 5_400_000 });
    expect(parseKeepAlive('0')).toEqual({ ms: 0 });
    expect(parseKeepAlive(-1)).toEqual({ ms: Number.POSITIVE_INFINITY });
    expect(parseKeepAlive('-1m')).toEqual({ ms: Number.POSITIVE_INFINITY });
    expect(parseKeepAlive('5')).toEqual({ error: 'time: missing unit in duration "5"' });
    expect(parseKeepAlive('soon')).toEqual({ error: 'time: invalid duration "soon"' });
  });
});

describe('model names', () => {
  it('matches names the way Ollama does: :latest by default, case-insensitive, registry prefix dropped', () => {
    expect(displayName('mistral')).toBe('mistral:latest');
    expect(modelKey('registry.ollama.ai/library/Mistral:7B')).toBe('mistral:7b');
    expect(modelKey('myorg/model')).toBe('myorg/model:latest');
  });

  it('guesses vision, family and size from the name', () => {
    expect(makeEntry('llava:13b')).toMatchObject({
      vision: true,
      family: 'llama',
      parameter_size: '13B',
      families: ['llama', 'clip'],
    });
    expect(makeEntry('moondream')).toMatchObject({ vision: true });
    expect(makeEntry('mistral:7b')).toMatchObject({ vision: false, family: 'llama', parameter_size: '7B' });
    expect(makeEntry('nomic-embed-text')).toMatchObject({ embedding: true, vision: false });
  });
});

describe('text', () => {
  it('splits replies into tokens that join back to the original text', () => {
    const text = '  Hello,  world!\nHow are you? ';
    expect(splitWords(text).join('')).toBe(text);
    const json = '{"a": [1, 2.5, "x y"], "b": null}';
    expect(splitJsonTokens(json).join('')).toBe(json);
    expect(splitJsonTokens(json).length).toBeGreaterThan(8);
  });

  it('produces values satisfying a schema with refs, unions, enums and bounds', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        when: { type: 'string', format: 'date-time' },
        score: { type: 'number', minimum: 0, maximum: 1 },
        note: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 10 }] },
        level: { enum: [1, 2, 3] },
        items: { type: 'array', minItems: 2, items: { $ref: '#/definitions/Item' } },
      },
      required: ['id', 'when', 'score', 'note', 'level', 'items'],
      definitions: {
        Item: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } }, required: ['qty'] },
      },
    };
    for (let seed = 0; seed < 20; seed++) {
      const v = valueForSchema(schema, new Rng(seed)) as Record<string, any>;
      expect(v.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.isNaN(Date.parse(v.when))).toBe(false);
      expect(v.score).toBeGreaterThanOrEqual(0);
      expect(v.score).toBeLessThanOrEqual(1);
      expect(typeof v.note).toBe('string');
      expect(v.note.length).toBeLessThanOrEqual(10);
      expect([1, 2, 3]).toContain(v.level);
      expect(v.items.length).toBeGreaterThanOrEqual(2);
      for (const item of v.items) expect(item.qty).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('script rules over JSON', () => {
  it('turns {regex, flags} into regular expressions and rejects malformed rules', () => {
    const rule = scriptRuleFromJson({ model: { regex: '^mistral' }, prompt: 'x', reply: 'y', once: true });
    expect(rule.model).toBeInstanceOf(RegExp);
    expect(rule).toMatchObject({ prompt: 'x', reply: 'y', once: true });
    expect(() => scriptRuleFromJson({ error: { status: 'bad' } })).toThrow(/error must be/);
    expect(() => scriptRuleFromJson([])).toThrow();
  });
});
