/**
 * `image-findings`: a PNG, JPEG or uncompressed DICOM image → findings, impression and image
 * quality from a vision model. The image is decoded and re-encoded as a bare PNG first, so no
 * metadata (DICOM patient tags, EXIF) ever reaches the model or the response.
 */
import { decodeClinicalImage } from '../imaging/decode.js';
import { ClinicalImageError } from '../imaging/errors.js';
import {
  buildImageFindingsPrompt,
  type ImageFindingsInput,
  type ImageFindingsOutput,
  imageFindingsInputSchema,
  imageFindingsOutputSchema,
  imageFindingsSystemPrompt,
  renderImageFindings,
  validateImageFindings,
} from '../imaging/image-findings.js';
import { type ClinicalTask, TaskInputError } from '../task.js';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export const imageFindingsTask: ClinicalTask<ImageFindingsInput, ImageFindingsOutput> = {
  id: 'image-findings',
  title: 'Describe findings in a medical image (PNG, JPEG or uncompressed DICOM)',
  roles: ['admin', 'provider'],
  defaultModel: 'llava:7b',
  vision: true,
  inputSchema: imageFindingsInputSchema,
  outputSchema: JSON.parse(JSON.stringify(imageFindingsOutputSchema)),
  systemPrompt: imageFindingsSystemPrompt,
  prepare(input) {
    const b64 = input.imageBase64.replace(/^data:[a-z/+.-]+;base64,/i, '').replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !BASE64_RE.test(b64)) {
      throw new TaskInputError('WARD_IMAGE_NOT_BASE64', 'imageBase64', 'imageBase64 must be base64-encoded');
    }
    try {
      const image = decodeClinicalImage(Buffer.from(b64, 'base64'));
      return { prompt: buildImageFindingsPrompt(input, image), images: [image.pngBase64] };
    } catch (err) {
      if (err instanceof ClinicalImageError) {
        throw new TaskInputError(
          `WARD_${err.code}`,
          'imageBase64',
          `imageBase64: ${err.message}`,
          err.statusCode,
        );
      }
      throw err;
    }
  },
  validate: (input, modelOutput) => validateImageFindings(input, modelOutput),
  render: renderImageFindings,
};
