/**
 * DICOM Part 10 → 8-bit PNG for the vision model. Uncompressed transfer syntaxes only; first frame only.
 * Only technical attributes are read. Patient, study and institution attributes are never read into the
 * result, and notes carry only modality, rows/columns, bits and photometric interpretation.
 */
import dicomParser, { type DataSet } from 'dicom-parser';
import { CorruptImageError, TruncatedImageError, UnsupportedImageError } from './errors.js';
import { checkDimensions, type ImageLimits } from './limits.js';
import { encodePng } from './png-output.js';

/** Transfer syntaxes whose pixel data is stored uncompressed. */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
};

/** Names of common transfer syntaxes we reject, for clearer messages. */
export const KNOWN_UNSUPPORTED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG-2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const TAG = {
  transferSyntaxUid: 'x00020010',
  modality: 'x00080060',
  samplesPerPixel: 'x00280002',
  photometricInterpretation: 'x00280004',
  planarConfiguration: 'x00280006',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  pixelData: 'x7fe00010',
} as const;

/** Result of DICOM decoding, before base64. */
export interface DecodedDicom {
  png: Buffer;
  width: number;
  height: number;
  notes: string[];
}

/** Photometric interpretations defined by DICOM PS3.3; other values are never echoed. */
const PHOTOMETRIC_TERMS = new Set([
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
  'RGB',
  'HSV',
  'ARGB',
  'CMYK',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_PARTIAL_422',
  'YBR_PARTIAL_420',
  'YBR_ICT',
  'YBR_RCT',
]);

/** Modality defined terms (DICOM PS3.3 C.7.3.1.1.1); other values are never echoed. */
const MODALITY_TERMS = new Set(
  (
    'AR ASMT AU BDUS BI BMD CR CT CTPROTOCOL DG DOC DX ECG EPS ES FID GM HC HD IO IOL IVOCT IVUS KER KO LEN LS ' +
    'MG MR M3D NM OAM OCT OP OPM OPT OPTBSV OPTENF OPV OSS OT PLAN PR PT PX REG RESP RF RG RTDOSE RTIMAGE RTPLAN ' +
    'RTRECORD RTSTRUCT RWV SEG SM SMR SR SRF STAIN TEXTUREMAP TG US VA XA XC'
  ).split(' '),
);

/**
 * A code string (CS) value if it is one of the allowed defined terms, else `undefined`: a malformed file
 * could carry free text (even a name) in any attribute, so only known terms are ever echoed.
 */
function definedTerm(dataSet: DataSet, tag: string, terms: ReadonlySet<string>): string | undefined {
  const value = dataSet.string(tag)?.replace(/\0/g, '').trim().toUpperCase();
  return value && terms.has(value) ? value : undefined;
}

function uidForMessage(uid: string): string {
  return /^[0-9.]{1,64}$/.test(uid) ? uid : '(malformed UID)';
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'exception' in error) return String(error.exception);
  return '';
}

function parse<T>(run: () => T, what: string): T {
  try {
    return run();
  } catch (error) {
    if (/past end of buffer|buffer overr(un|ead)|cannot be greater than or equal/i.test(errorText(error))) {
      throw new TruncatedImageError(`DICOM ${what} ends early`);
    }
    throw new CorruptImageError(`DICOM ${what} could not be parsed`);
  }
}

/** Reads the transfer syntax from the file meta information and rejects compressed ones. */
function checkTransferSyntax(bytes: Uint8Array): string {
  const meta = parse(() => dicomParser.readPart10Header(bytes), 'file meta information');
  const groupLength = meta.uint32('x00020000');
  if (groupLength !== undefined && 132 + 12 + groupLength > bytes.length) {
    throw new TruncatedImageError('DICOM file meta information ends early');
  }
  const uid = meta.string(TAG.transferSyntaxUid)?.replace(/\0/g, '').trim();
  if (!uid) throw new CorruptImageError('DICOM file meta information has no transfer syntax UID');
  if (UNCOMPRESSED_TRANSFER_SYNTAXES[uid]) return uid;
  const name = KNOWN_UNSUPPORTED_TRANSFER_SYNTAXES[uid];
  const shown = uidForMessage(uid);
  throw new UnsupportedImageError(
    `DICOM transfer syntax ${shown}${name ? ` (${name})` : ''} is not supported; send uncompressed DICOM (Explicit VR Little Endian 1.2.840.10008.1.2.1)`,
    { code: 'IMAGE_UNSUPPORTED_TRANSFER_SYNTAX', transferSyntaxUid: shown },
  );
}

function required(dataSet: DataSet, tag: string, label: string): number {
  const value = dataSet.uint16(tag);
  if (value === undefined) throw new CorruptImageError(`DICOM image has no ${label}`);
  return value;
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

/**
 * Decodes a DICOM Part 10 file (preamble + "DICM") into an 8-bit PNG of its first frame.
 * Applies Rescale Slope/Intercept, then Window Center/Width when present (else min/max), inverts MONOCHROME1.
 */
export function decodeDicom(bytes: Uint8Array, limits: Required<ImageLimits>): DecodedDicom {
  const transferSyntax = checkTransferSyntax(bytes);
  const dataSet = parse(() => dicomParser.parseDicom(bytes), 'data set');

  const rows = required(dataSet, TAG.rows, 'Rows');
  const columns = required(dataSet, TAG.columns, 'Columns');
  checkDimensions(columns, rows, limits);
  const bitsAllocated = required(dataSet, TAG.bitsAllocated, 'Bits Allocated');
  const bitsStored = dataSet.uint16(TAG.bitsStored) ?? bitsAllocated;
  const highBit = dataSet.uint16(TAG.highBit) ?? bitsStored - 1;
  const signed = dataSet.uint16(TAG.pixelRepresentation) === 1;
  const samples = dataSet.uint16(TAG.samplesPerPixel) ?? 1;
  const photometric = definedTerm(dataSet, TAG.photometricInterpretation, PHOTOMETRIC_TERMS);
  const frames = Math.max(1, finiteOr(dataSet.intString(TAG.numberOfFrames), 1));
  const modality = definedTerm(dataSet, TAG.modality, MODALITY_TERMS);

  const monochrome = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  if (!(monochrome && samples === 1) && !(photometric === 'RGB' && samples === 3)) {
    throw new UnsupportedImageError(
      `DICOM photometric interpretation ${photometric ?? '(missing or unrecognised)'} with ${samples} sample(s) per pixel is not supported; MONOCHROME1, MONOCHROME2 and RGB are`,
    );
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new UnsupportedImageError(`DICOM Bits Allocated ${bitsAllocated} is not supported; 8 and 16 are`);
  }
  if (photometric === 'RGB' && bitsAllocated !== 8) {
    throw new UnsupportedImageError('DICOM RGB images must have 8 bits allocated');
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw new CorruptImageError('DICOM Bits Stored/High Bit are inconsistent with Bits Allocated');
  }

  const pixel = dataSet.elements[TAG.pixelData];
  if (!pixel) throw new CorruptImageError('DICOM file has no Pixel Data');
  if (pixel.encapsulatedPixelData || pixel.hadUndefinedLength) {
    throw new CorruptImageError(
      'DICOM Pixel Data is encapsulated although the transfer syntax is uncompressed',
    );
  }
  const bytesPerSample = bitsAllocated / 8;
  const frameBytes = rows * columns * samples * bytesPerSample;
  if (pixel.length < frameBytes || pixel.dataOffset + frameBytes > bytes.length) {
    throw new TruncatedImageError(
      'DICOM Pixel Data is shorter than Rows × Columns × Samples × Bits Allocated',
    );
  }

  const notes = [
    ...(modality ? [`dicom modality ${modality}`] : ['dicom']),
    `rows ${rows}, columns ${columns}`,
    `bits allocated ${bitsAllocated}, bits stored ${bitsStored}${signed ? ', signed' : ''}`,
    `photometric interpretation ${photometric}`,
    `transfer syntax ${UNCOMPRESSED_TRANSFER_SYNTAXES[transferSyntax]}`,
  ];
  if (frames > 1) notes.push(`first frame of ${frames} used`);

  const pixels = bytes.subarray(pixel.dataOffset, pixel.dataOffset + frameBytes);
  if (photometric === 'RGB') {
    const planar = dataSet.uint16(TAG.planarConfiguration) === 1;
    const rgb = planar ? interleave(pixels, rows * columns) : pixels;
    notes.push('converted to 8-bit RGB PNG; DICOM attributes not carried over');
    return { png: encodePng(columns, rows, rgb, 'rgb'), width: columns, height: rows, notes };
  }

  const gray = monochromeToGray(dataSet, pixels, {
    count: rows * columns,
    bitsAllocated,
    bitsStored,
    highBit,
    signed,
    bigEndian: transferSyntax === '1.2.840.10008.1.2.2',
    invert: photometric === 'MONOCHROME1',
    notes,
  });
  notes.push('converted to 8-bit grayscale PNG; DICOM attributes not carried over');
  return { png: encodePng(columns, rows, gray, 'gray'), width: columns, height: rows, notes };
}

function interleave(planar: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    out[i * 3] = planar[i]!;
    out[i * 3 + 1] = planar[count + i]!;
    out[i * 3 + 2] = planar[2 * count + i]!;
  }
  return out;
}

interface GrayOptions {
  count: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  bigEndian: boolean;
  invert: boolean;
  notes: string[];
}

/** Maps stored values through the modality LUT (rescale) and VOI LUT (window or min/max) to 0–255. */
function monochromeToGray(dataSet: DataSet, pixels: Uint8Array, o: GrayOptions): Uint8Array {
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const shift = o.highBit + 1 - o.bitsStored;
  const mask = o.bitsStored >= 32 ? 0xffffffff : (1 << o.bitsStored) - 1;
  const raw = (i: number): number =>
    ((o.bitsAllocated === 16 ? view.getUint16(i * 2, !o.bigEndian) : pixels[i]!) >>> shift) & mask;
  const half = 1 << (o.bitsStored - 1);
  const storedOf = (index: number): number => (o.signed && index >= half ? index - (mask + 1) : index);

  const slope = finiteOr(dataSet.floatString(TAG.rescaleSlope), 1) || 1;
  const intercept = finiteOr(dataSet.floatString(TAG.rescaleIntercept), 0);
  if (dataSet.elements[TAG.rescaleSlope] || dataSet.elements[TAG.rescaleIntercept]) {
    o.notes.push('rescale slope/intercept applied');
  }
  const center = dataSet.floatString(TAG.windowCenter, 0);
  const width = dataSet.floatString(TAG.windowWidth, 0);

  let voi: (x: number) => number;
  if (
    center !== undefined &&
    width !== undefined &&
    Number.isFinite(center) &&
    Number.isFinite(width) &&
    width >= 1
  ) {
    const low = center - 0.5 - (width - 1) / 2;
    const high = center - 0.5 + (width - 1) / 2;
    voi = (x) => (x <= low ? 0 : x > high ? 255 : ((x - (center - 0.5)) / (width - 1) + 0.5) * 255);
    o.notes.push('window center/width applied');
  } else {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < o.count; i++) {
      const value = storedOf(raw(i)) * slope + intercept;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    const range = max - min;
    voi = (x) => (range > 0 ? ((x - min) / range) * 255 : 0);
    o.notes.push('min/max scaling applied (no window in file)');
  }
  if (o.invert) o.notes.push('MONOCHROME1 inverted for display');

  const lut = new Uint8Array(mask + 1);
  for (let index = 0; index <= mask; index++) {
    const y = Math.round(Math.min(255, Math.max(0, voi(storedOf(index) * slope + intercept))));
    lut[index] = o.invert ? 255 - y : y;
  }
  const out = new Uint8Array(o.count);
  for (let i = 0; i < o.count; i++) out[i] = lut[raw(i)]!;
  return out;
}
