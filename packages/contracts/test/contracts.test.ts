import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { isModelName, isRole, ProcessRequest } from '../src/index.js';

describe('model names', () => {
  it('accepts Ollama names and refuses paths, control characters and oversize names', () => {
    for (const ok of [
      'mistral',
      'mistral:7b',
      'llava:7b-v1.6-q4_K_M',
      'library/llava:13b',
      'hf.co/org/model:q4',
    ])
      expect(isModelName(ok)).toBe(true);
    for (const bad of [
      '../etc/passwd',
      '/abs',
      'a/../b',
      'mistral 7b',
      'mis\ntral',
      'a\u0000b',
      'a:b:c',
      '',
      'x'.repeat(201),
      'a/b/c/d',
    ]) {
      expect(isModelName(bad), bad).toBe(false);
    }
  });
});

describe('ProcessRequest', () => {
  it('accepts the deployment guide request and Ward additions', () => {
    expect(
      Value.Check(ProcessRequest, {
        modelName: 'mistral:7b',
        prompt: 'hi',
        type: 'text',
        options: { temperature: 0.2 },
      }),
    ).toBe(true);
    expect(
      Value.Check(ProcessRequest, {
        modelName: 'llava:7b',
        prompt: 'x',
        type: 'vision',
        imageData: 'iVBORw0KGgo=',
        stream: true,
        priority: 'stat',
        format: { type: 'object' },
        system: 's',
        timeoutSeconds: 30,
      }),
    ).toBe(true);
  });
  it('refuses unknown fields, unknown options and out-of-range values', () => {
    expect(Value.Check(ProcessRequest, { modelName: 'm', prompt: 'x', extra: 1 })).toBe(false);
    expect(Value.Check(ProcessRequest, { modelName: 'm', prompt: 'x', options: { nope: 1 } })).toBe(false);
    expect(Value.Check(ProcessRequest, { modelName: 'm', prompt: 'x', options: { temperature: 3 } })).toBe(
      false,
    );
    expect(Value.Check(ProcessRequest, { modelName: 'm', prompt: '' })).toBe(false);
    expect(Value.Check(ProcessRequest, { modelName: 'm', prompt: 'x', priority: 'urgent' })).toBe(false);
  });
  it('knows the four roles', () => {
    expect(['admin', 'provider', 'staff', 'auditor'].every(isRole)).toBe(true);
    expect(isRole('root')).toBe(false);
  });
});
