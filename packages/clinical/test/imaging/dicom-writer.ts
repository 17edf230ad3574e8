/**
 * A tiny DICOM Part 10 writer for tests: 128-byte preamble, "DICM", group 0002 file meta (always Explicit
 * VR Little Endian), then a data set in the requested transfer syntax.
 */

export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** Patient attributes planted in every test file; they must never reach a result, note or error. */
export const CANARY = {
  patientName: 'CANARY^ZEBRA^QUOKKA',
  patientId: 'CANARYID8675309',
  birthDate: '19010203',
  institution: 'CANARY GENERAL HOSPITAL',
};

export interface DicomElement {
  group: number;
  element: number;
  vr: string;
  /** Strings are padded to even length; numbers are written as US; bytes as-is. */
  value: string | number | number[] | Uint8Array;
  /** Overrides the declared length (to forge truncated files). */
  declaredLength?: number;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function encodeValue(el: DicomElement, littleEndian: boolean): Uint8Array {
  if (el.value instanceof Uint8Array) return el.value;
  if (typeof el.value === 'number' || Array.isArray(el.value)) {
    const values = typeof el.value === 'number' ? [el.value] : el.value;
    const out = new Uint8Array(values.length * 2);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => {
      view.setUint16(i * 2, v, littleEndian);
    });
    return out;
  }
  let text = el.value;
  if (text.length % 2 === 1) text += el.vr === 'UI' ? '\0' : ' ';
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function encodeElement(el: DicomElement, syntax: 'explicit-le' | 'implicit-le' | 'explicit-be'): Uint8Array {
  const littleEndian = syntax !== 'explicit-be';
  const value = encodeValue(el, littleEndian);
  const length = el.declaredLength ?? value.length;
  const explicit = syntax !== 'implicit-le';
  const headerLength = !explicit ? 8 : LONG_VRS.has(el.vr) ? 12 : 8;
  const out = new Uint8Array(headerLength + value.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, el.group, littleEndian);
  view.setUint16(2, el.element, littleEndian);
  if (!explicit) {
    view.setUint32(4, length, littleEndian);
  } else {
    out[4] = el.vr.charCodeAt(0);
    out[5] = el.vr.charCodeAt(1);
    if (LONG_VRS.has(el.vr)) view.setUint32(8, length, littleEndian);
    else view.setUint16(6, length, littleEndian);
  }
  out.set(value, headerLength);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Writes a DICOM Part 10 file with the given transfer syntax and data set elements. */
export function writeDicom(transferSyntax: string, elements: DicomElement[]): Buffer {
  const metaElements: DicomElement[] = [
    { group: 0x0002, element: 0x0001, vr: 'OB', value: new Uint8Array([0, 1]) },
    { group: 0x0002, element: 0x0002, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
    { group: 0x0002, element: 0x0003, vr: 'UI', value: '1.2.826.0.1.3680043.2.1125.1.1' },
    { group: 0x0002, element: 0x0010, vr: 'UI', value: transferSyntax },
    { group: 0x0002, element: 0x0012, vr: 'UI', value: '1.2.826.0.1.3680043.2.1125.1' },
  ];
  const metaBody = concat(metaElements.map((el) => encodeElement(el, 'explicit-le')));
  const groupLength = encodeElement(
    { group: 0x0002, element: 0x0000, vr: 'UL', value: new Uint8Array(4) },
    'explicit-le',
  );
  new DataView(groupLength.buffer).setUint32(8, metaBody.length, true);
  const syntax =
    transferSyntax === IMPLICIT_LE
      ? 'implicit-le'
      : transferSyntax === EXPLICIT_BE
        ? 'explicit-be'
        : 'explicit-le';
  const sorted = [...elements].sort((a, b) => a.group - b.group || a.element - b.element);
  const body = concat(sorted.map((el) => encodeElement(el, syntax)));
  const preamble = new Uint8Array(132);
  preamble.set(Buffer.from('DICM', 'latin1'), 128);
  return Buffer.from(concat([preamble, groupLength, metaBody, body]));
}

export interface ImageSpec {
  rows: number;
  columns: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometric?: string;
  samplesPerPixel?: number;
  planarConfiguration?: number;
  frames?: number;
  windowCenter?: string;
  windowWidth?: string;
  rescaleIntercept?: string;
  rescaleSlope?: string;
  modality?: string;
  /** Raw pixel bytes (already in the file's byte order). */
  pixelData: Uint8Array;
  pixelDeclaredLength?: number;
  pixelVr?: 'OW' | 'OB';
}

/** The data set of an image file, including the patient-attribute canaries. */
export function imageElements(spec: ImageSpec): DicomElement[] {
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const elements: DicomElement[] = [
    { group: 0x0008, element: 0x0060, vr: 'CS', value: spec.modality ?? 'CT' },
    { group: 0x0008, element: 0x0080, vr: 'LO', value: CANARY.institution },
    { group: 0x0010, element: 0x0010, vr: 'PN', value: CANARY.patientName },
    { group: 0x0010, element: 0x0020, vr: 'LO', value: CANARY.patientId },
    { group: 0x0010, element: 0x0030, vr: 'DA', value: CANARY.birthDate },
    { group: 0x0028, element: 0x0002, vr: 'US', value: spec.samplesPerPixel ?? 1 },
    { group: 0x0028, element: 0x0004, vr: 'CS', value: spec.photometric ?? 'MONOCHROME2' },
    { group: 0x0028, element: 0x0010, vr: 'US', value: spec.rows },
    { group: 0x0028, element: 0x0011, vr: 'US', value: spec.columns },
    { group: 0x0028, element: 0x0100, vr: 'US', value: bitsAllocated },
    { group: 0x0028, element: 0x0101, vr: 'US', value: bitsStored },
    { group: 0x0028, element: 0x0102, vr: 'US', value: bitsStored - 1 },
    { group: 0x0028, element: 0x0103, vr: 'US', value: spec.pixelRepresentation ?? 0 },
    {
      group: 0x7fe0,
      element: 0x0010,
      vr: spec.pixelVr ?? (bitsAllocated === 16 ? 'OW' : 'OB'),
      value: spec.pixelData,
      ...(spec.pixelDeclaredLength !== undefined ? { declaredLength: spec.pixelDeclaredLength } : {}),
    },
  ];
  if (spec.planarConfiguration !== undefined) {
    elements.push({ group: 0x0028, element: 0x0006, vr: 'US', value: spec.planarConfiguration });
  }
  if (spec.frames !== undefined)
    elements.push({ group: 0x0028, element: 0x0008, vr: 'IS', value: String(spec.frames) });
  if (spec.windowCenter !== undefined)
    elements.push({ group: 0x0028, element: 0x1050, vr: 'DS', value: spec.windowCenter });
  if (spec.windowWidth !== undefined)
    elements.push({ group: 0x0028, element: 0x1051, vr: 'DS', value: spec.windowWidth });
  if (spec.rescaleIntercept !== undefined) {
    elements.push({ group: 0x0028, element: 0x1052, vr: 'DS', value: spec.rescaleIntercept });
  }
  if (spec.rescaleSlope !== undefined)
    elements.push({ group: 0x0028, element: 0x1053, vr: 'DS', value: spec.rescaleSlope });
  return elements;
}

/** 16-bit samples as bytes in the given byte order. */
export function words(values: readonly number[], littleEndian = true): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setUint16(i * 2, v & 0xffff, littleEndian);
  });
  return out;
}
