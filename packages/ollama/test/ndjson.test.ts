import { describe, expect, it } from 'vitest';
import { NdjsonParseError, parseNdjson } from '../src/index.js';

async function* chunks(...pieces: Array<string | Buffer>): AsyncGenerator<Buffer> {
  for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

async function collect(source: AsyncIterable<Buffer>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of parseNdjson(source)) out.push(value);
  return out;
}

describe('parseNdjson', () => {
  it('joins lines split across chunks and splits chunks holding several lines', async () => {
    const values = await collect(chunks('{"a":1}\n{"b":', '2}\n{"c"', ':3', '}\n{"d":4}\n{"e":5}\n'));
    expect(values).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }, { e: 5 }]);
  });

  it('decodes a multi-byte character split between two chunks', async () => {
    const line = Buffer.from('{"response":"Schmerz 😷 äöü"}\n');
    const emoji = line.indexOf(0xf0);
    const values = await collect(chunks(line.subarray(0, emoji + 2), line.subarray(emoji + 2)));
    expect(values).toEqual([{ response: 'Schmerz 😷 äöü' }]);
  });

  it('accepts CRLF line ends, blank lines and a last line without newline', async () => {
    const values = await collect(chunks('{"a":1}\r\n\r\n', '\n  \n{"b":2}\r', '\n{"c":3}'));
    expect(values).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('rejects an invalid line without quoting its content', async () => {
    const error = await collect(
      chunks('{"a":1}\n{"response":"patient Jane Doe', '"}\n{oops secret}\n'),
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NdjsonParseError);
    expect((error as NdjsonParseError).line).toBe(3);
    expect((error as Error).message).not.toContain('secret');
  });
});
