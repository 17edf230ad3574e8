/** Size limits for clinical image uploads, checked before any pixel is decoded. */
import { ImageDimensionsError } from './errors.js';

/** Limits applied before any pixel is decoded. */
export interface ImageLimits {
  /** Largest accepted upload in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Largest accepted width or height in pixels. Default 8192. */
  maxDimension?: number;
  /** Smallest accepted width or height in pixels. Default 16. */
  minDimension?: number;
}

/** Default limits. */
export const DEFAULT_IMAGE_LIMITS: Required<ImageLimits> = {
  maxBytes: 20 * 1024 * 1024,
  maxDimension: 8192,
  minDimension: 16,
};

/** Throws `ImageDimensionsError` unless both sides are within the limits. */
export function checkDimensions(width: number, height: number, limits: Required<ImageLimits>): void {
  const ok = (side: number) =>
    Number.isInteger(side) && side >= limits.minDimension && side <= limits.maxDimension;
  if (!ok(width) || !ok(height)) {
    throw new ImageDimensionsError(
      `image is ${width}×${height} px; each side must be between ${limits.minDimension} and ${limits.maxDimension} px`,
    );
  }
}
