/**
 * Typed errors for clinical image decoding. Each has a stable `code` and an HTTP `statusCode` (4xx: the
 * upload is at fault), the same shape `@fastify/error` produces, so the gateway's error handler can map them.
 * Messages name formats, limits and transfer syntax UIDs only — never patient data.
 */

/** Stable codes of image decoding errors. */
export type ClinicalImageErrorCode =
  | 'IMAGE_UNSUPPORTED_FORMAT'
  | 'IMAGE_UNSUPPORTED_TRANSFER_SYNTAX'
  | 'IMAGE_TRUNCATED'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_DIMENSIONS';

/** Base class of every image decoding error. */
export class ClinicalImageError extends Error {
  readonly code: ClinicalImageErrorCode;
  readonly statusCode: number;

  constructor(code: ClinicalImageErrorCode, statusCode: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** The bytes are not a supported image (PDF, GIF, unknown), or use an unsupported variant (415). */
export class UnsupportedImageError extends ClinicalImageError {
  /** The DICOM transfer syntax UID, for `IMAGE_UNSUPPORTED_TRANSFER_SYNTAX`. */
  readonly transferSyntaxUid: string | undefined;

  constructor(
    message: string,
    options: {
      code?: 'IMAGE_UNSUPPORTED_FORMAT' | 'IMAGE_UNSUPPORTED_TRANSFER_SYNTAX';
      transferSyntaxUid?: string;
    } = {},
  ) {
    super(options.code ?? 'IMAGE_UNSUPPORTED_FORMAT', 415, message);
    this.transferSyntaxUid = options.transferSyntaxUid;
  }
}

/** The file ends early: PNG without IEND, JPEG without EOI, DICOM pixel data short of the frame size (422). */
export class TruncatedImageError extends ClinicalImageError {
  constructor(message: string) {
    super('IMAGE_TRUNCATED', 422, message);
  }
}

/** The file is complete but its content cannot be decoded (422). */
export class CorruptImageError extends ClinicalImageError {
  constructor(message: string) {
    super('IMAGE_CORRUPT', 422, message);
  }
}

/** The upload exceeds the byte limit (413). */
export class ImageTooLargeError extends ClinicalImageError {
  constructor(message: string) {
    super('IMAGE_TOO_LARGE', 413, message);
  }
}

/** Width or height is outside the allowed range (422). */
export class ImageDimensionsError extends ClinicalImageError {
  constructor(message: string) {
    super('IMAGE_DIMENSIONS', 422, message);
  }
}
