import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { decodeClinicalImage } from '../../src/imaging/decode.js';
import {
  buildImageFindingsPrompt,
  type ImageFindingsInput,
  imageFindingsInputSchema,
  imageFindingsOutputSchema,
  imageFindingsSystemPrompt,
  renderImageFindings,
  validateImageFindings,
} from '../../src/imaging/image-findings.js';
import { CANARY, EXPLICIT_LE, imageElements, words, writeDicom } from './dicom-writer.js';

const INPUT: ImageFindingsInput = {
  imageBase64: 'AAAA',
  clinicalQuestion: 'Cough and fever for 5 days. Pneumonia?',
};

const GOOD = {
  findings: [
    { description: 'Patchy consolidation', location: 'right lower lobe', confidence: 0.8 },
    { description: 'No pleural effusion', confidence: 0.7 },
  ],
  impression: 'Right lower lobe consolidation, consistent with pneumonia in this clinical context.',
  imageQuality: { adequate: true, notes: 'PA view, adequate inspiration.' },
};

function codes(findings: { code: string }[]): string[] {
  return findings.map((f) => f.code);
}

describe('image-findings task', () => {
  it('accepts a complete answer without findings', () => {
    const { output, findings } = validateImageFindings(INPUT, GOOD);
    expect(findings).toEqual([]);
    expect(output).toEqual(GOOD);
    expect(Value.Check(imageFindingsOutputSchema, output)).toBe(true);
  });

  it('reports a missing impression as an error', () => {
    const { findings } = validateImageFindings(INPUT, { ...GOOD, impression: ' ' });
    expect(findings).toEqual([
      expect.objectContaining({ code: 'IMAGE_IMPRESSION_MISSING', severity: 'error', path: 'impression' }),
    ]);
  });

  it('reports empty findings', () => {
    const { findings } = validateImageFindings(INPUT, { ...GOOD, findings: [] });
    expect(findings).toEqual([expect.objectContaining({ code: 'IMAGE_FINDINGS_EMPTY', path: 'findings' })]);
  });

  it('drops findings without a description and out-of-range confidences', () => {
    const { output, findings } = validateImageFindings(INPUT, {
      ...GOOD,
      findings: [{ location: 'left apex' }, { description: 'Small nodule', confidence: 1.7 }],
    });
    expect(output.findings).toEqual([{ description: 'Small nodule' }]);
    expect(findings.map((f) => [f.code, f.path])).toEqual([
      ['IMAGE_FINDING_INVALID', 'model.findings[0]'],
      ['IMAGE_CONFIDENCE_INVALID', 'findings[0].confidence'],
    ]);
  });

  it('handles unusable output: invalid, no findings, no impression, no quality', () => {
    const { output, findings } = validateImageFindings(INPUT, 'I see a chest.');
    expect(codes(findings)).toEqual([
      'IMAGE_OUTPUT_INVALID',
      'IMAGE_FINDINGS_EMPTY',
      'IMAGE_IMPRESSION_MISSING',
      'IMAGE_QUALITY_MISSING',
    ]);
    expect(output.imageQuality.adequate).toBe(false);
    expect(renderImageFindings(output)).toContain('Impression: [missing]');
  });

  it('notes an image the model judged inadequate', () => {
    const { findings } = validateImageFindings(INPUT, {
      ...GOOD,
      imageQuality: { adequate: false, notes: 'rotated' },
    });
    expect(findings).toEqual([
      expect.objectContaining({ code: 'IMAGE_QUALITY_INADEQUATE', severity: 'info' }),
    ]);
  });

  it('builds a prompt from the decoded image notes without patient attributes', () => {
    const values = Array.from({ length: 32 * 32 }, (_, i) => i);
    const image = decodeClinicalImage(
      writeDicom(
        EXPLICIT_LE,
        imageElements({ rows: 32, columns: 32, pixelData: words(values), modality: 'CR' }),
      ),
    );
    const prompt = buildImageFindingsPrompt(INPUT, image);
    expect(prompt).toContain('Image: DICOM source, 32×32 px.');
    expect(prompt).toContain('- dicom modality CR');
    expect(prompt).toContain('<<<QUESTION\nCough and fever for 5 days. Pneumonia?\nQUESTION>>>');
    expect(prompt).not.toContain('CANARY');
    expect(prompt).not.toContain(CANARY.patientId);
    expect(imageFindingsSystemPrompt).toContain('imageQuality');
    expect(Value.Check(imageFindingsInputSchema, INPUT)).toBe(true);
  });

  it('renders findings, impression and quality', () => {
    const text = renderImageFindings(validateImageFindings(INPUT, GOOD).output);
    expect(text).toContain('1. Patchy consolidation [right lower lobe] (confidence 80%)');
    expect(text).toContain('Image quality: adequate — PA view, adequate inspiration.');
  });
});
