import fc from 'fast-check';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  buildDrugInteractionsPrompt,
  type DrugInteractionsInput,
  drugInteractionsInputSchema,
  drugInteractionsOutputSchema,
  drugInteractionsSystemPrompt,
  renderDrugInteractions,
  validateDrugInteractions,
} from '../../src/drugs/drug-interactions.js';
import {
  CURATED_INTERACTIONS,
  findCuratedInteractions,
  ONC_HIGH_PRIORITY_CITATION,
} from '../../src/drugs/interaction-table.js';

const GUIDE: DrugInteractionsInput = { medications: 'warfarin 5mg daily, aspirin 81 mg' };

function codes(findings: { code: string }[]): string[] {
  return findings.map((f) => f.code);
}

function curatedPairs(input: DrugInteractionsInput) {
  return validateDrugInteractions(input, { interactions: [] }).output.interactions;
}

describe('curated interaction table', () => {
  it('holds the 15 ONC high-priority interactions, each citing Phansalkar 2012', () => {
    const onc = CURATED_INTERACTIONS.filter((r) => r.source === 'ward-curated:onc-high-priority');
    expect(onc).toHaveLength(15);
    expect(new Set(onc.map((r) => r.id)).size).toBe(15);
    for (const rule of onc) {
      expect(rule.citation).toBe(ONC_HIGH_PRIORITY_CITATION);
      expect(rule.citation).toContain('doi:10.1136/amiajnl-2011-000612');
      expect(rule.severity).toBe('contraindicated');
    }
  });

  it('labels entries not on the ONC list as supplemental with their own source', () => {
    const supplemental = CURATED_INTERACTIONS.filter((r) => r.source === 'ward-curated:supplemental');
    expect(supplemental.map((r) => `${r.object}+${r.precipitant}`)).toEqual([
      'vitamin_k_antagonists+antiplatelets',
      'vitamin_k_antagonists+nsaids',
      'pde5_inhibitors+nitrates',
    ]);
    for (const rule of supplemental) {
      expect(rule.citation).toMatch(/FDA/);
      expect(rule.citation).not.toBe(ONC_HIGH_PRIORITY_CITATION);
    }
  });

  it.each([
    ['Vyvanse 30 mg, Nardil 15 mg tid', ['lisdexamfetamine', 'phenelzine']],
    ['Reyataz 300 mg, Nexium 40 mg', ['atazanavir', 'esomeprazole']],
    ['febuxostat 40 mg, azathioprine 100 mg', ['febuxostat', 'azathioprine']],
    ['sertraline 50 mg, phenelzine 15 mg', ['sertraline', 'phenelzine']],
    ['irinotecan, ketoconazole 200 mg', ['irinotecan', 'ketoconazole']],
    ['Demerol 50 mg, Parnate', ['meperidine', 'tranylcypromine']],
    ['amitriptyline 25 mg, isocarboxazid', ['amitriptyline', 'isocarboxazid']],
    ['pimozide 2 mg, clarithromycin 500 mg', ['pimozide', 'clarithromycin']],
    ['Rozerem 8 mg, Luvox 100 mg', ['ramelteon', 'fluvoxamine']],
    ['ritonavir 100 mg, rifampin 600 mg', ['ritonavir', 'rifampin']],
    ['Zocor 40 mg, clarithromycin 500 mg bid', ['simvastatin', 'clarithromycin']],
    ['ergotamine, itraconazole', ['ergotamine', 'itraconazole']],
    ['tizanidine 4 mg, Cipro 500 mg', ['tizanidine', 'ciprofloxacin']],
    ['tranylcypromine, procarbazine', ['tranylcypromine', 'procarbazine']],
    ['Imitrex 50 mg, selegiline', ['sumatriptan', 'selegiline']],
  ])('detects the ONC pair in "%s"', (medications, drugs) => {
    const interactions = curatedPairs({ medications });
    expect(interactions).toEqual([
      expect.objectContaining({
        drugs,
        severity: 'contraindicated',
        source: 'ward-curated:onc-high-priority',
      }),
    ]);
  });

  it('finds nothing for unrelated drugs and does not pair ingredients of one product', () => {
    expect(findCuratedInteractions([['lisinopril'], ['metformin']])).toEqual([]);
    expect(findCuratedInteractions([['ritonavir', 'lopinavir']])).toEqual([]);
  });
});

describe('drug-interactions validator', () => {
  it('reports warfarin + aspirin (supplemental) even when the model reports nothing', () => {
    const { output, findings } = validateDrugInteractions(GUIDE, { interactions: [] });
    expect(output.interactions).toEqual([
      expect.objectContaining({
        drugs: ['warfarin', 'aspirin'],
        severity: 'major',
        source: 'ward-curated:supplemental',
      }),
    ]);
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'DDI_CURATED_MISSING_FROM_MODEL',
        severity: 'warning',
        path: 'interactions[0]',
      }),
    ]);
    expect(renderDrugInteractions(output)).toContain('Coumadin (warfarin sodium)');
  });

  it('reports warfarin + aspirin from brand names too', () => {
    const { output } = validateDrugInteractions(
      { medications: [{ name: 'Coumadin', dose: '5 mg' }, { name: 'Bayer' }] },
      {},
    );
    expect(output.interactions[0]).toMatchObject({ drugs: ['warfarin', 'aspirin'], severity: 'major' });
  });

  it('reports an ONC interaction the model omitted, keeping the model’s other findings', () => {
    const input = {
      medications: 'Zocor 40 mg nightly, clarithromycin 500 mg bid, lisinopril 10 mg, spironolactone 25 mg',
    };
    const model = {
      interactions: [
        {
          drugs: ['lisinopril', 'spironolactone'],
          severity: 'moderate',
          mechanism: 'Additive potassium retention.',
          management: 'Monitor potassium.',
          source: 'model',
        },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(output.interactions).toEqual([
      expect.objectContaining({
        drugs: ['simvastatin', 'clarithromycin'],
        severity: 'contraindicated',
        source: 'ward-curated:onc-high-priority',
      }),
      expect.objectContaining({
        drugs: ['lisinopril', 'spironolactone'],
        severity: 'moderate',
        source: 'model',
      }),
    ]);
    expect(codes(findings)).toEqual(['DDI_CURATED_MISSING_FROM_MODEL']);
    expect(findings[0]!.message).toContain('onc-hp-11');
  });

  it('overrules a model downgrade of a curated interaction', () => {
    const input = { medications: 'simvastatin 40 mg, clarithromycin 500 mg' };
    const model = {
      interactions: [
        {
          drugs: ['Zocor', 'Biaxin'],
          severity: 'minor',
          mechanism: 'Probably fine.',
          management: 'No action needed.',
          source: 'model',
        },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(output.interactions).toHaveLength(1);
    expect(output.interactions[0]).toMatchObject({
      severity: 'contraindicated',
      source: 'ward-curated:onc-high-priority',
    });
    expect(output.interactions[0]!.management).not.toContain('No action needed');
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'DDI_MODEL_DOWNGRADE_OVERRULED',
        severity: 'warning',
        path: 'interactions[0]',
      }),
    ]);
  });

  it('accepts a model that agrees, with a class name for one side, without findings', () => {
    const input = { medications: 'warfarin 5 mg, ibuprofen 400 mg tid' };
    const model = {
      interactions: [
        {
          drugs: ['warfarin', 'NSAIDs'],
          severity: 'major',
          mechanism: 'x',
          management: 'y',
          source: 'model',
        },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(findings).toEqual([]);
    expect(output.interactions).toEqual([
      expect.objectContaining({ drugs: ['warfarin', 'ibuprofen'], source: 'ward-curated:supplemental' }),
    ]);
  });

  it('keeps a model interaction naming a drug not on the list, flagged DDI_DRUG_NOT_IN_INPUT', () => {
    const input = { medications: 'metformin 500 mg, lisinopril 10 mg' };
    const model = {
      interactions: [
        {
          drugs: ['metformin', 'digoxin'],
          severity: 'moderate',
          mechanism: 'm',
          management: 'n',
          source: 'model',
        },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(output.interactions).toEqual([
      expect.objectContaining({ drugs: ['metformin', 'digoxin'], source: 'model' }),
    ]);
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'DDI_DRUG_NOT_IN_INPUT',
        severity: 'warning',
        path: 'interactions[0].drugs[1]',
      }),
    ]);
  });

  it('relabels a model claiming curated provenance for a non-curated pair', () => {
    const input = { medications: 'lisinopril, spironolactone' };
    const model = {
      interactions: [
        {
          drugs: ['lisinopril', 'spironolactone'],
          severity: 'major',
          mechanism: 'm',
          management: 'n',
          source: 'ward-curated:onc-high-priority',
        },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(output.interactions[0]!.source).toBe('model');
    expect(codes(findings)).toEqual(['DDI_SOURCE_RELABELLED']);
  });

  it('drops malformed model entries and flags invalid severities', () => {
    const input = { medications: 'lisinopril, spironolactone, metformin' };
    const model = {
      interactions: [
        { drugs: ['lisinopril'], severity: 'major' },
        { drugs: ['lisinopril', 'spironolactone'], severity: 'deadly', mechanism: 'm', management: 'n' },
        { drugs: ['metformin', 'metformin'], severity: 'minor' },
        { drugs: ['spironolactone', 'lisinopril'], severity: 'minor' },
      ],
    };
    const { output, findings } = validateDrugInteractions(input, model);
    expect(output.interactions).toEqual([expect.objectContaining({ severity: 'moderate', source: 'model' })]);
    expect(findings.map((f) => [f.code, f.path])).toEqual([
      ['DDI_MODEL_ENTRY_INVALID', 'model.interactions[0]'],
      ['DDI_MODEL_SEVERITY_INVALID', 'interactions[0].severity'],
      ['DDI_MODEL_ENTRY_INVALID', 'model.interactions[2]'],
      ['DDI_MODEL_DUPLICATE', 'model.interactions[3]'],
    ]);
  });

  it('applies the curated check when the model output is unusable', () => {
    for (const bad of [null, 'not json', 42, [], { interactions: 'none' }]) {
      const { output, findings } = validateDrugInteractions(GUIDE, bad);
      expect(output.interactions).toHaveLength(1);
      expect(codes(findings)).toEqual(['DDI_OUTPUT_INVALID', 'DDI_CURATED_MISSING_FROM_MODEL']);
    }
  });

  it('notes medications outside the dictionary', () => {
    const { findings } = validateDrugInteractions(
      { medications: 'warfarin, zyxofloxin 250 mg' },
      { interactions: [] },
    );
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'DDI_MEDICATION_UNRECOGNISED',
        severity: 'info',
        path: 'medications[1]',
      }),
    ]);
  });

  it('never lets any model output remove or soften a curated interaction', () => {
    const input = { medications: 'warfarin 5 mg, aspirin 81 mg, simvastatin 40 mg, itraconazole 200 mg' };
    fc.assert(
      fc.property(fc.anything(), (modelOutput) => {
        const { output } = validateDrugInteractions(input, modelOutput);
        const curated = output.interactions.filter((i) => i.source !== 'model');
        expect(curated).toEqual([
          expect.objectContaining({ drugs: ['simvastatin', 'itraconazole'], severity: 'contraindicated' }),
          expect.objectContaining({ drugs: ['warfarin', 'aspirin'], severity: 'major' }),
        ]);
        expect(Value.Check(drugInteractionsOutputSchema, output)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never echoes medication names from the input in finding messages', () => {
    const input = { medications: 'Quokkazine 10 mg, warfarin, aspirin' };
    const model = {
      interactions: [
        { drugs: ['Quokkazine', 'Canarymab'], severity: 'major', mechanism: 'm', management: 'n' },
        { drugs: ['warfarin', 'aspirin'], severity: 'minor', mechanism: 'm', management: 'n' },
      ],
    };
    const { findings } = validateDrugInteractions(input, model);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect(finding.message).not.toMatch(/quokka|canary|warfarin|aspirin/i);
  });

  it('builds a fenced prompt with normalised ingredients; schemas are plain JSON Schema', () => {
    const prompt = buildDrugInteractionsPrompt({
      medications: [{ name: 'Coumadin', dose: '5 mg' }, { name: 'Bayer' }],
    });
    expect(prompt).toContain('1. Coumadin — 5 mg (ingredients: warfarin)');
    expect(prompt).toContain('2. Bayer (ingredients: aspirin)');
    expect(prompt).toContain('<<<MEDICATIONS');
    expect(drugInteractionsSystemPrompt).toContain('"source": "model"');
    expect(Value.Check(drugInteractionsInputSchema, GUIDE)).toBe(true);
    expect(Value.Check(drugInteractionsInputSchema, { medications: [{ name: 'warfarin' }] })).toBe(true);
    const schema = JSON.parse(JSON.stringify(drugInteractionsOutputSchema));
    expect(schema.properties.interactions.items.properties.severity.enum).toEqual([
      'contraindicated',
      'major',
      'moderate',
      'minor',
    ]);
  });

  it('renders an explicit no-interaction message', () => {
    const { output } = validateDrugInteractions(
      { medications: 'lisinopril, metformin' },
      { interactions: [] },
    );
    expect(renderDrugInteractions(output)).toContain('No interactions identified.');
  });
});
