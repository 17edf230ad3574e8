/** Encodes decoded pixels as the 8-bit PNG that the vision model receives (no ancillary chunks). */
import { PNG } from 'pngjs';

/** Pixel layouts the encoder accepts: 1 byte per pixel (gray), 3 (RGB) or 4 (RGBA). */
export type PixelLayout = 'gray' | 'rgb' | 'rgba';

const COLOR_TYPE = { gray: 0, rgb: 2, rgba: 6 } as const;
const BYTES_PER_PIXEL = { gray: 1, rgb: 3, rgba: 4 } as const;

/**
 * Writes an 8-bit PNG. RGBA input is written as RGB over a black background unless `keepAlpha`,
 * and gray input stays single-channel.
 */
export function encodePng(
  width: number,
  height: number,
  data: Uint8Array,
  layout: PixelLayout,
  options: { grayscaleOutput?: boolean } = {},
): Buffer {
  if (data.length !== width * height * BYTES_PER_PIXEL[layout]) {
    throw new RangeError('pixel buffer does not match width × height × channels');
  }
  const inputColorType = COLOR_TYPE[layout];
  const colorType = layout === 'gray' || options.grayscaleOutput ? 0 : 2;
  const png = new PNG({ width, height, inputColorType, colorType, inputHasAlpha: layout === 'rgba' });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, {
    inputColorType,
    colorType,
    inputHasAlpha: layout === 'rgba',
    bitDepth: 8,
    bgColor: { red: 0, green: 0, blue: 0 },
  });
}
