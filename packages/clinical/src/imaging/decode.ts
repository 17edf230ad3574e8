/**
 * Clinical image intake: recognise PNG, JPEG and DICOM by their bytes, enforce size limits, and produce
 * the 8-bit PNG a vision model receives. Re-encoding drops every metadata chunk (PNG text, JPEG EXIF and
 * comments, DICOM tags), so no patient data travels with the pixels.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeDicom } from './dicom.js';
import {
  CorruptImageError,
  ImageTooLargeError,
  TruncatedImageError,
  UnsupportedImageError,
} from './errors.js';
import { checkDimensions, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits.js';
import { encodePng } from './png-output.js';

export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits.js';

/** What the vision model gets, plus safe facts about the source image. */
export interface DecodedClinicalImage {
  kind: 'png' | 'jpeg' | 'dicom';
  /** Base64 of an 8-bit PNG without metadata chunks. */
  pngBase64: string;
  width: number;
  height: number;
  /** Technical notes only (modality, rows/columns, bits, photometric interpretation, conversions). */
  notes: string[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  return prefix.every((value, i) => bytes[offset + i] === value);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

/** Names of formats we recognise only to reject them with a clear message. */
function otherFormatName(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, ascii('%PDF'))) return 'PDF document';
  if (startsWith(bytes, ascii('GIF8'))) return 'GIF image';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'TIFF image';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WebP image';
  if (startsWith(bytes, ascii('BM'))) return 'BMP image';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'ZIP archive';
  return undefined;
}

/**
 * Decodes a PNG, JPEG or DICOM upload into the PNG the vision model receives.
 * @throws UnsupportedImageError, TruncatedImageError, CorruptImageError, ImageTooLargeError, ImageDimensionsError
 */
export function decodeClinicalImage(
  bytes: Buffer | Uint8Array,
  limits: ImageLimits = {},
): DecodedClinicalImage {
  const resolved: Required<ImageLimits> = { ...DEFAULT_IMAGE_LIMITS, ...limits };
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length > resolved.maxBytes) {
    throw new ImageTooLargeError(`image is ${buffer.length} bytes; the limit is ${resolved.maxBytes} bytes`);
  }
  if (buffer.length === 0) throw new UnsupportedImageError('the upload is empty');
  if (startsWith(buffer, PNG_SIGNATURE)) return decodePngImage(buffer, resolved);
  if (startsWith(buffer, [0xff, 0xd8, 0xff])) return decodeJpegImage(buffer, resolved);
  if (startsWith(buffer, ascii('DICM'), 128)) {
    const dicom = decodeDicom(buffer, resolved);
    return {
      kind: 'dicom',
      pngBase64: dicom.png.toString('base64'),
      width: dicom.width,
      height: dicom.height,
      notes: dicom.notes,
    };
  }
  const other = otherFormatName(buffer);
  throw new UnsupportedImageError(
    other
      ? `${other} is not supported; upload a PNG, JPEG or DICOM (Part 10) image`
      : 'unrecognised file format; upload a PNG, JPEG or DICOM (Part 10) image',
  );
}

/** Width and height from IHDR, after checking the chunk stream reaches IEND. */
function readPngHeader(bytes: Buffer): { width: number; height: number; colorType: number } {
  if (bytes.length < 33) throw new TruncatedImageError('PNG ends before its header is complete');
  if (bytes.toString('latin1', 12, 16) !== 'IHDR')
    throw new CorruptImageError('PNG does not start with an IHDR chunk');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const colorType = bytes[25]!;
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) break;
    if (type === 'IEND') return { width, height, colorType };
    offset = end;
  }
  throw new TruncatedImageError('PNG ends before its IEND chunk');
}

function decodePngImage(bytes: Buffer, limits: Required<ImageLimits>): DecodedClinicalImage {
  const header = readPngHeader(bytes);
  checkDimensions(header.width, header.height, limits);
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(bytes);
  } catch {
    throw new CorruptImageError('PNG pixel data could not be decoded');
  }
  const grayscale = header.colorType === 0 || header.colorType === 4;
  const png = encodePng(decoded.width, decoded.height, decoded.data, 'rgba', { grayscaleOutput: grayscale });
  return {
    kind: 'png',
    pngBase64: png.toString('base64'),
    width: decoded.width,
    height: decoded.height,
    notes: [
      `png ${decoded.width}×${decoded.height}, ${grayscale ? 'grayscale' : 'colour'}`,
      're-encoded as 8-bit PNG; metadata chunks removed',
    ],
  };
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const SUPPORTED_SOF = new Set([0xc0, 0xc1, 0xc2]);

/** Frame header of a JPEG, after checking the file ends with EOI. */
function readJpegHeader(bytes: Buffer): { width: number; height: number; components: number; sof: number } {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0x00) end--;
  if (end < 4 || bytes[end - 2] !== 0xff || bytes[end - 1] !== 0xd9) {
    throw new TruncatedImageError('JPEG ends before its EOI marker');
  }
  let offset = 2;
  while (offset + 4 <= end) {
    if (bytes[offset] !== 0xff) throw new CorruptImageError('JPEG marker stream is malformed');
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    if (offset + 2 + length > end) throw new TruncatedImageError('JPEG ends inside a marker segment');
    if (SOF_MARKERS.has(marker)) {
      if (length < 8) throw new CorruptImageError('JPEG frame header is malformed');
      return {
        height: bytes.readUInt16BE(offset + 5),
        width: bytes.readUInt16BE(offset + 7),
        components: bytes[offset + 9]!,
        sof: marker,
      };
    }
    if (marker === 0xda) break;
    offset += 2 + length;
  }
  throw new CorruptImageError('JPEG has no frame header');
}

function decodeJpegImage(bytes: Buffer, limits: Required<ImageLimits>): DecodedClinicalImage {
  const header = readJpegHeader(bytes);
  if (!SUPPORTED_SOF.has(header.sof)) {
    throw new UnsupportedImageError(
      'JPEG coding process is not supported (lossless, hierarchical or arithmetic)',
    );
  }
  checkDimensions(header.width, header.height, limits);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil((limits.maxDimension * limits.maxDimension) / 1_000_000) + 1,
      maxMemoryUsageInMB: 1024,
    });
  } catch {
    throw new CorruptImageError('JPEG pixel data could not be decoded');
  }
  const grayscale = header.components === 1;
  const png = encodePng(decoded.width, decoded.height, decoded.data, 'rgba', { grayscaleOutput: grayscale });
  return {
    kind: 'jpeg',
    pngBase64: png.toString('base64'),
    width: decoded.width,
    height: decoded.height,
    notes: [
      `jpeg ${decoded.width}×${decoded.height}, ${grayscale ? 'grayscale' : 'colour'}`,
      'converted to 8-bit PNG; EXIF and comments removed',
    ],
  };
}
