import { invalid } from './errors.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks `imageData` (base64, optionally as a data: URL) and returns the bare base64 Ollama wants.
 * Only PNG and JPEG are accepted, judged by their magic bytes, not by what the client claims.
 */
export function checkImage(imageData: string, field = 'imageData'): string {
  let b64 = imageData;
  const m = /^data:([a-z/+.-]+);base64,/i.exec(b64);
  if (m) b64 = b64.slice(m[0].length);
  b64 = b64.replace(/\s+/g, '');
  if (b64.length % 4 !== 0 || !BASE64_RE.test(b64)) throw invalid(field, 'must be base64-encoded');
  const head = Buffer.from(b64.slice(0, 16), 'base64');
  const isPng = head.subarray(0, 8).equals(PNG);
  const isJpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  if (!isPng && !isJpeg) throw invalid(field, 'must be a PNG or JPEG image');
  if (b64.length < 64) throw invalid(field, 'is too short to be a whole image');
  return b64;
}
