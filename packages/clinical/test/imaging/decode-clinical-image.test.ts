import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeClinicalImage } from '../../src/imaging/decode.js';
import { ClinicalImageError, UnsupportedImageError } from '../../src/imaging/errors.js';
import {
  CANARY,
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  imageElements,
  JPEG_BASELINE,
  words,
  writeDicom,
} from './dicom-writer.js';

function pngFromResult(pngBase64: string): PNG {
  return PNG.sync.read(Buffer.from(pngBase64, 'base64'));
}

function grayAt(png: PNG, x: number, y: number): number {
  return png.data[(y * png.width + x) * 4]!;
}

function makePng(width: number, height: number, extraText?: string): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = i % 256;
    png.data[i * 4 + 1] = 100;
    png.data[i * 4 + 2] = 200;
    png.data[i * 4 + 3] = 255;
  }
  const bytes = PNG.sync.write(png);
  if (!extraText) return bytes;
  // insert a tEXt chunk after IHDR (8 + 25 bytes)
  const data = Buffer.from(`Comment\0${extraText}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([bytes.subarray(0, 33), chunk, bytes.subarray(33)]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function makeJpeg(width: number, height: number, comment?: string): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = 200;
    data[i * 4 + 1] = 50;
    data[i * 4 + 2] = 50;
    data[i * 4 + 3] = 255;
  }
  return jpeg.encode({ width, height, data, ...(comment ? { comments: [comment] } : {}) }, 90).data;
}

function expectCode(run: () => unknown, code: string): ClinicalImageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ClinicalImageError);
    expect((error as ClinicalImageError).code).toBe(code);
    expect((error as ClinicalImageError).statusCode).toBeGreaterThanOrEqual(400);
    expect((error as ClinicalImageError).statusCode).toBeLessThan(500);
    return error as ClinicalImageError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

function assertNoCanary(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  for (const canary of Object.values(CANARY)) {
    expect(text).not.toContain(canary);
    expect(text).not.toContain(canary.split('^')[0]);
  }
}

/** A 16-bit MONOCHROME2 ramp, value = x * 100 + y. */
function ramp16(rows: number, columns: number): number[] {
  const values: number[] = [];
  for (let y = 0; y < rows; y++) for (let x = 0; x < columns; x++) values.push(x * 100 + y);
  return values;
}

describe('decodeClinicalImage — PNG and JPEG', () => {
  it('re-encodes a PNG with its dimensions and drops text chunks', () => {
    const result = decodeClinicalImage(makePng(32, 20, CANARY.patientName));
    expect(result.kind).toBe('png');
    expect([result.width, result.height]).toEqual([32, 20]);
    const png = pngFromResult(result.pngBase64);
    expect([png.width, png.height]).toEqual([32, 20]);
    expect(png.data[4 * 5]).toBe(5);
    assertNoCanary(result);
    assertNoCanary(Buffer.from(result.pngBase64, 'base64').toString('latin1'));
  });

  it('answers IMAGE_TRUNCATED for a PNG cut before IEND', () => {
    const bytes = makePng(32, 32);
    expectCode(() => decodeClinicalImage(bytes.subarray(0, bytes.length - 20)), 'IMAGE_TRUNCATED');
  });

  it('answers IMAGE_DIMENSIONS for images below the minimum side', () => {
    expectCode(() => decodeClinicalImage(makePng(8, 40)), 'IMAGE_DIMENSIONS');
  });

  it('answers IMAGE_DIMENSIONS from the header alone for oversized images', () => {
    const bytes = Buffer.from(makePng(32, 32));
    bytes.writeUInt32BE(9000, 16); // forge IHDR width; CRC is not checked before the limit
    expectCode(() => decodeClinicalImage(bytes), 'IMAGE_DIMENSIONS');
    expectCode(() => decodeClinicalImage(makePng(64, 64), { maxDimension: 32 }), 'IMAGE_DIMENSIONS');
  });

  it('answers IMAGE_TOO_LARGE (413) above the byte limit', () => {
    const error = expectCode(
      () => decodeClinicalImage(makePng(32, 32), { maxBytes: 100 }),
      'IMAGE_TOO_LARGE',
    );
    expect(error.statusCode).toBe(413);
  });

  it('converts a JPEG to PNG and drops its comment', () => {
    const result = decodeClinicalImage(makeJpeg(40, 30, CANARY.patientName));
    expect(result.kind).toBe('jpeg');
    expect([result.width, result.height]).toEqual([40, 30]);
    const png = pngFromResult(result.pngBase64);
    expect([png.width, png.height]).toEqual([40, 30]);
    expect(png.data[0]).toBeGreaterThan(150);
    assertNoCanary(Buffer.from(result.pngBase64, 'base64').toString('latin1'));
  });

  it('answers IMAGE_TRUNCATED for a JPEG without EOI', () => {
    const bytes = makeJpeg(40, 30);
    expectCode(() => decodeClinicalImage(bytes.subarray(0, bytes.length - 50)), 'IMAGE_TRUNCATED');
  });

  it('rejects PDF, other formats and unknown bytes with IMAGE_UNSUPPORTED_FORMAT (415)', () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1');
    const error = expectCode(() => decodeClinicalImage(pdf), 'IMAGE_UNSUPPORTED_FORMAT');
    expect(error).toBeInstanceOf(UnsupportedImageError);
    expect(error.statusCode).toBe(415);
    expect(error.message).toMatch(/PDF/);
    expectCode(() => decodeClinicalImage(Buffer.from('GIF89a......', 'latin1')), 'IMAGE_UNSUPPORTED_FORMAT');
    expectCode(
      () => decodeClinicalImage(Buffer.from('hello, not an image at all')),
      'IMAGE_UNSUPPORTED_FORMAT',
    );
    expectCode(() => decodeClinicalImage(Buffer.alloc(0)), 'IMAGE_UNSUPPORTED_FORMAT');
  });
});

describe('decodeClinicalImage — DICOM', () => {
  it('converts 16-bit MONOCHROME2 (min/max) to a grayscale PNG of Columns × Rows and leaks no patient tag', () => {
    const rows = 20;
    const columns = 24;
    const file = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows, columns, pixelData: words(ramp16(rows, columns)), modality: 'MR' }),
    );
    const result = decodeClinicalImage(file);
    expect(result.kind).toBe('dicom');
    expect([result.width, result.height]).toEqual([columns, rows]);
    const png = pngFromResult(result.pngBase64);
    expect([png.width, png.height]).toEqual([columns, rows]);
    expect(grayAt(png, 0, 0)).toBe(0);
    expect(grayAt(png, columns - 1, rows - 1)).toBe(255);
    expect(grayAt(png, 12, 0)).toBeGreaterThan(grayAt(png, 11, 0));
    expect(result.notes).toContain('dicom modality MR');
    expect(result.notes).toContain('rows 20, columns 24');
    expect(result.notes).toContain('photometric interpretation MONOCHROME2');
    assertNoCanary(result);
    assertNoCanary(Buffer.from(result.pngBase64, 'base64').toString('latin1'));
  });

  it('applies rescale slope/intercept and the DICOM window (CT, soft-tissue window)', () => {
    // stored 0..N → HU = stored - 1024; window 40/400 → [-160, 240] HU maps to 0..255
    const stored = [0, 864, 1064, 1264, 2000, 3000];
    const values = Array.from({ length: 16 * 16 }, (_, i) => stored[i % stored.length]!);
    const file = writeDicom(
      EXPLICIT_LE,
      imageElements({
        rows: 16,
        columns: 16,
        bitsStored: 12,
        pixelData: words(values),
        rescaleIntercept: '-1024',
        rescaleSlope: '1',
        windowCenter: '40\\80',
        windowWidth: '400\\800',
      }),
    );
    const result = decodeClinicalImage(file);
    const png = pngFromResult(result.pngBase64);
    expect(grayAt(png, 0, 0)).toBe(0); // -1024 HU, below window
    expect(grayAt(png, 1, 0)).toBe(0); // -160 HU, window floor
    expect(grayAt(png, 2, 0)).toBe(128); // 40 HU, window centre
    expect(grayAt(png, 3, 0)).toBe(255); // 240 HU, window ceiling
    expect(grayAt(png, 4, 0)).toBe(255);
    expect(result.notes).toContain('window center/width applied');
    expect(result.notes).toContain('rescale slope/intercept applied');
  });

  it('inverts MONOCHROME1', () => {
    const values = Array.from({ length: 16 * 16 }, (_, i) => (i % 2 === 0 ? 0 : 4095));
    const file = writeDicom(
      EXPLICIT_LE,
      imageElements({
        rows: 16,
        columns: 16,
        bitsStored: 12,
        photometric: 'MONOCHROME1',
        pixelData: words(values),
      }),
    );
    const png = pngFromResult(decodeClinicalImage(file).pngBase64);
    expect(grayAt(png, 0, 0)).toBe(255);
    expect(grayAt(png, 1, 0)).toBe(0);
  });

  it('reads signed 16-bit pixels', () => {
    const values = Array.from({ length: 16 * 16 }, (_, i) => (i % 2 === 0 ? -1000 : 1000));
    const file = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 16, columns: 16, pixelRepresentation: 1, pixelData: words(values) }),
    );
    const png = pngFromResult(decodeClinicalImage(file).pngBase64);
    expect(grayAt(png, 0, 0)).toBe(0);
    expect(grayAt(png, 1, 0)).toBe(255);
  });

  it('decodes Implicit VR Little Endian and Explicit VR Big Endian files', () => {
    const values = ramp16(16, 16);
    const implicit = decodeClinicalImage(
      writeDicom(IMPLICIT_LE, imageElements({ rows: 16, columns: 16, pixelData: words(values) })),
    );
    const big = decodeClinicalImage(
      writeDicom(EXPLICIT_BE, imageElements({ rows: 16, columns: 16, pixelData: words(values, false) })),
    );
    expect(big.pngBase64).toBe(implicit.pngBase64);
    expect(big.notes).toContain('transfer syntax Explicit VR Big Endian');
    const png = pngFromResult(implicit.pngBase64);
    expect(grayAt(png, 15, 15)).toBe(255);
  });

  it('converts 8-bit RGB, interleaved and planar', () => {
    const count = 16 * 16;
    const interleaved = new Uint8Array(count * 3);
    const planar = new Uint8Array(count * 3);
    for (let i = 0; i < count; i++) {
      interleaved.set([250, 10, 20], i * 3);
      planar[i] = 250;
      planar[count + i] = 10;
      planar[2 * count + i] = 20;
    }
    for (const [pixelData, planarConfiguration] of [
      [interleaved, 0],
      [planar, 1],
    ] as const) {
      const file = writeDicom(
        EXPLICIT_LE,
        imageElements({
          rows: 16,
          columns: 16,
          bitsAllocated: 8,
          samplesPerPixel: 3,
          photometric: 'RGB',
          planarConfiguration,
          pixelData,
          modality: 'XC',
        }),
      );
      const png = pngFromResult(decodeClinicalImage(file).pngBase64);
      expect([...png.data.subarray(0, 3)]).toEqual([250, 10, 20]);
    }
  });

  it('uses only the first frame of a multi-frame file', () => {
    const frame1 = Array.from({ length: 16 * 16 }, (_, i) => (i < 128 ? 0 : 255));
    const frame2 = Array.from({ length: 16 * 16 }, () => 128);
    const file = writeDicom(
      EXPLICIT_LE,
      imageElements({
        rows: 16,
        columns: 16,
        bitsAllocated: 8,
        frames: 2,
        pixelData: new Uint8Array([...frame1, ...frame2]),
      }),
    );
    const result = decodeClinicalImage(file);
    const png = pngFromResult(result.pngBase64);
    expect(grayAt(png, 0, 0)).toBe(0);
    expect(grayAt(png, 0, 15)).toBe(255);
    expect(result.notes).toContain('first frame of 2 used');
  });

  it('rejects a compressed transfer syntax with IMAGE_UNSUPPORTED_TRANSFER_SYNTAX naming the UID', () => {
    const file = writeDicom(
      JPEG_BASELINE,
      imageElements({ rows: 16, columns: 16, bitsAllocated: 8, pixelData: new Uint8Array(256) }),
    );
    const error = expectCode(() => decodeClinicalImage(file), 'IMAGE_UNSUPPORTED_TRANSFER_SYNTAX');
    expect(error).toBeInstanceOf(UnsupportedImageError);
    expect(error.statusCode).toBe(415);
    expect(error.message).toContain(JPEG_BASELINE);
    expect((error as UnsupportedImageError).transferSyntaxUid).toBe(JPEG_BASELINE);
    assertNoCanary(error.message);
  });

  it('answers IMAGE_TRUNCATED when Pixel Data is shorter than Rows × Columns × bytes', () => {
    const short = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 16, columns: 16, pixelData: words(ramp16(8, 16)) }),
    );
    const shortError = expectCode(() => decodeClinicalImage(short), 'IMAGE_TRUNCATED');
    assertNoCanary(shortError.message);
  });

  it('answers IMAGE_TRUNCATED when the file is cut inside Pixel Data', () => {
    const full = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 16, columns: 16, pixelData: words(ramp16(16, 16)) }),
    );
    const cut = full.subarray(0, full.length - 100);
    const error = expectCode(() => decodeClinicalImage(cut), 'IMAGE_TRUNCATED');
    assertNoCanary(error.message);
    expectCode(() => decodeClinicalImage(full.subarray(0, 150)), 'IMAGE_TRUNCATED');
  });

  it('never echoes free text placed in coded attributes (modality, photometric interpretation)', () => {
    const pixelData = new Uint8Array(256);
    const oddPhotometric = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 16, columns: 16, bitsAllocated: 8, photometric: 'CANARY ZEBRA', pixelData }),
    );
    const error = expectCode(() => decodeClinicalImage(oddPhotometric), 'IMAGE_UNSUPPORTED_FORMAT');
    assertNoCanary(error.message);
    const oddModality = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 16, columns: 16, bitsAllocated: 8, modality: 'CANARY', pixelData }),
    );
    const result = decodeClinicalImage(oddModality);
    expect(result.notes[0]).toBe('dicom');
    assertNoCanary(result);
  });

  it('rejects unsupported photometric interpretations and sizes', () => {
    const palette = writeDicom(
      EXPLICIT_LE,
      imageElements({
        rows: 16,
        columns: 16,
        bitsAllocated: 8,
        photometric: 'PALETTE COLOR',
        pixelData: new Uint8Array(256),
      }),
    );
    expectCode(() => decodeClinicalImage(palette), 'IMAGE_UNSUPPORTED_FORMAT');
    const tiny = writeDicom(
      EXPLICIT_LE,
      imageElements({ rows: 4, columns: 4, bitsAllocated: 8, pixelData: new Uint8Array(16) }),
    );
    expectCode(() => decodeClinicalImage(tiny), 'IMAGE_DIMENSIONS');
  });
});
