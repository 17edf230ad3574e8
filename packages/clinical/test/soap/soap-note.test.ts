import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  buildSoapNotePrompt,
  renderSoapNote,
  type SoapNoteInput,
  soapNoteInputSchema,
  soapNoteOutputSchema,
  soapNoteSystemPrompt,
  validateSoapNote,
} from '../../src/soap/soap-note.js';

const GUIDE: SoapNoteInput = { encounterText: '65-year-old man with chest pain, BP 150/95, HR 88' };

const GOOD_NOTE = {
  subjective: '65-year-old man presenting with chest pain.',
  objective: 'BP 150/95 mmHg, HR 88 bpm.',
  assessment: 'Chest pain, acute coronary syndrome to be excluded. Elevated blood pressure.',
  plan: 'ECG, serial troponin, aspirin if no contraindication, cardiology review.',
  vitals: [
    { name: 'systolic_bp', value: 150, unit: 'mmHg' },
    { name: 'diastolic_bp', value: 95, unit: 'mmHg' },
    { name: 'heart_rate', value: 88, unit: 'bpm' },
  ],
};

function codes(findings: { code: string }[]): string[] {
  return findings.map((f) => f.code);
}

describe('soap-note task', () => {
  it('accepts a correct note for the guide scenario without findings', () => {
    const { output, findings } = validateSoapNote(GUIDE, GOOD_NOTE);
    expect(findings).toEqual([]);
    expect(output.vitals).toEqual(GOOD_NOTE.vitals);
    expect(Value.Check(soapNoteOutputSchema, output)).toBe(true);
  });

  it('reports each missing or empty section as SOAP_SECTION_MISSING with its path', () => {
    const { output, findings } = validateSoapNote(GUIDE, { ...GOOD_NOTE, plan: undefined, objective: '   ' });
    const missing = findings.filter((f) => f.code === 'SOAP_SECTION_MISSING');
    expect(missing.map((f) => f.path).sort()).toEqual(['objective', 'plan']);
    expect(missing.every((f) => f.severity === 'error')).toBe(true);
    expect(output.plan).toBe('');
    expect(renderSoapNote(output)).toContain('P — Plan\n[missing]');
  });

  it('adds vitals the model left out, from the text', () => {
    const { output, findings } = validateSoapNote(GUIDE, { ...GOOD_NOTE, vitals: [] });
    expect(output.vitals).toEqual(GOOD_NOTE.vitals);
    expect(codes(findings)).toEqual([
      'VITAL_ADDED_FROM_SOURCE',
      'VITAL_ADDED_FROM_SOURCE',
      'VITAL_ADDED_FROM_SOURCE',
    ]);
  });

  it('replaces a model vital that contradicts the text and flags VITAL_NOT_IN_SOURCE', () => {
    const wrong = {
      ...GOOD_NOTE,
      vitals: [
        { name: 'systolic_bp', value: 150, unit: 'mmHg' },
        { name: 'diastolic_bp', value: 95, unit: 'mmHg' },
        { name: 'heart_rate', value: 120, unit: 'bpm' },
      ],
    };
    const { output, findings } = validateSoapNote(GUIDE, wrong);
    expect(output.vitals[2]).toEqual({ name: 'heart_rate', value: 88, unit: 'bpm' });
    expect(findings).toEqual([
      expect.objectContaining({ code: 'VITAL_NOT_IN_SOURCE', severity: 'warning', path: 'vitals[2]' }),
    ]);
  });

  it('keeps but flags a vital the text never states', () => {
    const invented = { ...GOOD_NOTE, vitals: [...GOOD_NOTE.vitals, { name: 'spo2', value: 97, unit: '%' }] };
    const { output, findings } = validateSoapNote(GUIDE, invented);
    expect(output.vitals).toHaveLength(4);
    expect(findings).toEqual([expect.objectContaining({ code: 'VITAL_NOT_IN_SOURCE', path: 'vitals[3]' })]);
  });

  it('flags implausible vitals from the text as VITAL_IMPLAUSIBLE errors', () => {
    const input = { encounterText: 'BP 80/120, HR 350, Temp 50 C, SpO2 104%, RR 16' };
    const { findings } = validateSoapNote(input, { ...GOOD_NOTE, vitals: [] });
    const implausible = findings.filter((f) => f.code === 'VITAL_IMPLAUSIBLE');
    expect(implausible.every((f) => f.severity === 'error')).toBe(true);
    // diastolic above systolic, HR 350, 50 °C, SpO2 104 %; RR 16 is fine
    expect(implausible.map((f) => f.path).sort()).toEqual([
      'vitals[1]',
      'vitals[2]',
      'vitals[3]',
      'vitals[4]',
    ]);
  });

  it('flags an implausible vital the model invents, and converts units before comparing', () => {
    const input = { encounterText: 'Temp 38.5 C, weight 80 kg' };
    const model = {
      ...GOOD_NOTE,
      vitals: [
        { name: 'temperature', value: 101.3, unit: 'F' },
        { name: 'weight', value: 176.4, unit: 'lbs' },
        { name: 'systolic_bp', value: 20, unit: 'mmHg' },
      ],
    };
    const { output, findings } = validateSoapNote(input, model);
    expect(output.vitals.slice(0, 2)).toEqual([
      { name: 'temperature', value: 101.3, unit: '°F' },
      { name: 'weight', value: 176.4, unit: 'lb' },
    ]);
    expect(codes(findings).sort()).toEqual(['VITAL_IMPLAUSIBLE', 'VITAL_NOT_IN_SOURCE']);
  });

  it('treats structured input vitals as source and flags implausible ones', () => {
    const input: SoapNoteInput = {
      encounterText: 'Follow-up visit, feeling well.',
      vitals: { heartRate: 15 },
    };
    const { output, findings } = validateSoapNote(input, { ...GOOD_NOTE, vitals: [] });
    expect(output.vitals).toEqual([{ name: 'heart_rate', value: 15, unit: 'bpm' }]);
    expect(codes(findings)).toContain('VITAL_IMPLAUSIBLE');
  });

  it('drops malformed model vitals with VITAL_INVALID', () => {
    const { findings } = validateSoapNote(GUIDE, {
      ...GOOD_NOTE,
      vitals: [
        ...GOOD_NOTE.vitals,
        { name: 'mood', value: 5, unit: '' },
        { name: 'heart_rate', value: 'fast' },
      ],
    });
    expect(findings.filter((f) => f.code === 'VITAL_INVALID').map((f) => f.path)).toEqual([
      'model.vitals[3]',
      'model.vitals[4]',
    ]);
  });

  it('handles non-JSON model output: every section missing, vitals from the text', () => {
    const { output, findings } = validateSoapNote(GUIDE, 'Sorry, I cannot help with that.');
    expect(codes(findings).filter((c) => c === 'SOAP_SECTION_MISSING')).toHaveLength(4);
    expect(codes(findings)).toContain('SOAP_OUTPUT_INVALID');
    expect(output.vitals.map((v) => v.value)).toEqual([150, 95, 88]);
  });

  it('accepts the model output as a JSON string', () => {
    expect(validateSoapNote(GUIDE, JSON.stringify(GOOD_NOTE)).findings).toEqual([]);
  });

  it('never echoes patient data in finding messages', () => {
    const input = { encounterText: 'Mr Quokka Canary, HR 333, BP 70/90' };
    const { findings } = validateSoapNote(input, {
      subjective: '',
      vitals: [{ name: 'spo2', value: 77, unit: '%' }],
    });
    const text = findings.map((f) => f.message).join('\n');
    expect(text).not.toMatch(/Quokka|Canary|333|77/);
  });

  it('builds a prompt that fences the text and lists structured vitals; schemas are plain JSON Schema', () => {
    const prompt = buildSoapNotePrompt({ ...GUIDE, vitals: { spo2: 96 } });
    expect(prompt).toContain('<<<ENCOUNTER\n65-year-old man with chest pain, BP 150/95, HR 88\nENCOUNTER>>>');
    expect(prompt).toContain('- spo2: 96 %');
    expect(soapNoteSystemPrompt).toContain('systolic_bp');
    expect(Value.Check(soapNoteInputSchema, GUIDE)).toBe(true);
    const schema = JSON.parse(JSON.stringify(soapNoteOutputSchema));
    expect(schema.required).toEqual(['subjective', 'objective', 'assessment', 'plan', 'vitals']);
    expect(schema.properties.vitals.items.properties.name.enum).toContain('heart_rate');
  });

  it('renders all four sections and the vitals line', () => {
    const text = renderSoapNote(validateSoapNote(GUIDE, GOOD_NOTE).output);
    expect(text).toContain('S — Subjective');
    expect(text).toContain('Vitals: BP 150/95 mmHg; HR 88 bpm');
    expect(text).toContain('P — Plan\nECG');
  });
});
