import { describe, expect, it } from 'vitest';
import { parseTtl } from '../src/auth.js';
import { checkImage } from '../src/images.js';
import { normalizeModel } from '../src/routes/process.js';
import { rateLimitsFrom } from '../src/server.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 1)]).toString('base64');

describe('checkImage', () => {
  it('accepts PNG and JPEG by magic bytes, with or without a data URL', () => {
    expect(checkImage(PNG)).toBe(PNG);
    expect(checkImage(`data:image/png;base64,${PNG}`)).toBe(PNG);
    expect(checkImage(JPEG)).toBe(JPEG);
  });
  it('refuses other bytes, bad base64 and fragments, naming the field', () => {
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(60)]).toString('base64');
    for (const bad of [gif, 'not base64!', PNG.slice(0, 20), Buffer.from('%PDF-1.4').toString('base64')]) {
      expect(() => checkImage(bad)).toThrow(/imageData/);
    }
    // A data URL that lies about the type is judged by the bytes.
    expect(() => checkImage(`data:image/png;base64,${gif}`)).toThrow(/PNG or JPEG/);
  });
});

describe('normalizeModel', () => {
  it('adds :latest like Ollama when no tag is given', () => {
    expect(normalizeModel('mistral')).toBe('mistral:latest');
    expect(normalizeModel('mistral:7b')).toBe('mistral:7b');
    expect(normalizeModel('library/llava')).toBe('library/llava:latest');
    expect(normalizeModel('hf.co/org/model:q4')).toBe('hf.co/org/model:q4');
  });
});

describe('parseTtl', () => {
  it('reads durations', () => {
    expect(parseTtl('15m')).toBe(900_000);
    expect(parseTtl('8h')).toBe(28_800_000);
    expect(parseTtl(30)).toBe(30_000);
    expect(() => parseTtl('soon')).toThrow(/not a duration/);
  });
});

describe('rateLimitsFrom', () => {
  it('reads per-user and per-role limits, refusing values that name no role or no number', () => {
    const limits = rateLimitsFrom(['staff=3', 'anonymous=9'], 'w', ['staff=50', 'provider=900']);
    expect(limits.perMinute).toEqual({ admin: 600, provider: 600, staff: 3, auditor: 300 });
    expect(limits.anonymousPerMinute).toBe(9);
    expect(limits.perRolePerMinute).toEqual({ staff: 50, provider: 900 });
    expect(rateLimitsFrom([], 'w').perRolePerMinute).toEqual({});
    // Anonymous callers are limited per address; no role shares their limit.
    expect(() => rateLimitsFrom([], 'w', ['anonymous=5'])).toThrow(
      'RATE_LIMIT_PER_ROLE_PER_MINUTE names an unknown role "anonymous"',
    );
    expect(() => rateLimitsFrom([], 'w', ['staff=many'])).toThrow(
      'RATE_LIMIT_PER_ROLE_PER_MINUTE entry "staff=many" needs a whole number',
    );
    expect(() => rateLimitsFrom(['nurse=5'], 'w')).toThrow(
      'RATE_LIMIT_PER_MINUTE names an unknown role "nurse"',
    );
  });
});
