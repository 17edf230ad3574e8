/**
 * HL7 v2 escape sequences (\F\ \S\ \T\ \R\ \E\ \P\ \Xhh..\ and the formatting commands of FT).
 * Decoding happens on leaf values, after the text has been split on the delimiters.
 */
import type { Hl7Encoding } from './model.js';

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

function decodeHex(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

function count(arg: string): number {
  const n = Number.parseInt(arg.trim() || '1', 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 100) : 1;
}

/** Meaning of one escape sequence body (the text between two escape characters), or undefined if unknown. */
function translate(body: string, enc: Hl7Encoding): string | undefined {
  switch (body) {
    case 'F':
      return enc.field;
    case 'S':
      return enc.component;
    case 'T':
      return enc.subcomponent;
    case 'R':
      return enc.repetition;
    case 'E':
      return enc.escape;
    case 'P':
      return enc.truncation;
    case 'H':
    case 'N':
      return '';
  }
  const head = body[0];
  if (head === 'X' && HEX.test(body.slice(1))) return decodeHex(body.slice(1));
  if ((head === 'C' || head === 'M' || head === 'Z') && body.length > 1) return '';
  if (head === '.') {
    const command = body.slice(1, 3);
    const arg = body.slice(3);
    switch (command) {
      case 'br':
        return arg === '' ? '\n' : undefined;
      case 'sp':
        return '\n'.repeat(count(arg));
      case 'sk':
        return ' '.repeat(count(arg));
      case 'in':
      case 'ti':
      case 'ce':
      case 'fi':
      case 'nf':
        return command === 'ce' ? '\n' : '';
    }
  }
  return undefined;
}

/**
 * Decodes the escape sequences in one leaf value. Unknown or unterminated sequences are kept as
 * written, so a stray escape character (e.g. in a Windows path) survives.
 */
export function decodeEscapes(value: string, enc: Hl7Encoding): string {
  const esc = enc.escape;
  if (!value.includes(esc)) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf(esc, i);
    if (start === -1) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, start);
    const end = value.indexOf(esc, start + 1);
    if (end === -1) {
      out += value.slice(start);
      break;
    }
    const meaning = translate(value.slice(start + 1, end), enc);
    if (meaning === undefined) {
      // Not a sequence: keep the escape character and carry on just after it.
      out += esc;
      i = start + 1;
    } else {
      out += meaning;
      i = end + 1;
    }
  }
  return out;
}
