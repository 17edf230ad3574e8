/**
 * Incremental NDJSON decoding of byte chunks as they come off the socket. Lines are cut on the
 * newline byte (never part of a multi-byte UTF-8 sequence), so a character split across chunks is
 * decoded whole.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Thrown when a line is not valid JSON. Carries no part of the line, which may hold generated text. */
export class NdjsonParseError extends Error {
  /** 1-based number of the offending line. */
  readonly line: number;

  constructor(line: number) {
    super(`invalid JSON on NDJSON line ${line}`);
    this.name = 'NdjsonParseError';
    this.line = line;
  }
}

/**
 * Yields one parsed value per non-empty line of `source`. Accepts `\n` and `\r\n` line ends and a
 * last line without a newline.
 *
 * @throws NdjsonParseError when a line is not valid JSON.
 */
export async function* parseNdjson(
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<unknown, void, undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;

  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    if (newline === -1) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      continue;
    }
    if (pendingBytes > 0) {
      pending.push(chunk.subarray(0, newline));
      const line = Buffer.concat(pending, pendingBytes + newline);
      pending = [];
      pendingBytes = 0;
      lineNumber++;
      const value = parseLine(line, 0, line.length, lineNumber);
      if (value !== undefined) yield value;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      lineNumber++;
      const value = parseLine(chunk, start, newline, lineNumber);
      if (value !== undefined) yield value;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }

  if (pendingBytes > 0) {
    const line = Buffer.concat(pending, pendingBytes);
    const value = parseLine(line, 0, line.length, lineNumber + 1);
    if (value !== undefined) yield value;
  }
}

function parseLine(buf: Buffer, start: number, end: number, lineNumber: number): unknown {
  if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
  if (end === start) return undefined;
  const text = buf.toString('utf8', start, end);
  try {
    return JSON.parse(text);
  } catch {
    if (text.trim() === '') return undefined;
    throw new NdjsonParseError(lineNumber);
  }
}
