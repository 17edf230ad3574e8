import { describe, expect, it } from 'vitest';
import { DRUG_GROUPS, groupsOf } from '../../src/drugs/drug-groups.js';
import { normalizeMedications, resolveAgainstList, splitMedicationText } from '../../src/drugs/normalize.js';
import { DRUG_SYNONYMS } from '../../src/drugs/synonyms.js';

describe('medication normalisation', () => {
  it('splits the guide free text into entries with doses', () => {
    expect(splitMedicationText('warfarin 5mg daily, aspirin 81 mg')).toEqual([
      { name: 'warfarin', dose: '5mg daily' },
      { name: 'aspirin', dose: '81 mg' },
    ]);
  });

  it('maps brands and synonyms to ingredients', () => {
    const meds = normalizeMedications(
      'Coumadin 5 mg; Jantoven; Bayer 81mg; ASA; acetylsalicylic acid; Zocor 40 mg qhs\nSt. John’s Wort and Viagra',
    );
    expect(meds.map((m) => m.ingredients)).toEqual([
      ['warfarin'],
      ['warfarin'],
      ['aspirin'],
      ['aspirin'],
      ['aspirin'],
      ['simvastatin'],
      ['st johns wort'],
      ['sildenafil'],
    ]);
    expect(meds.every((m) => m.recognised)).toBe(true);
  });

  it('expands combination products and strips salts and formulations', () => {
    const meds = normalizeMedications([
      { name: 'Kaletra' },
      { name: 'aspirin/dipyridamole ER' },
      { name: 'Isosorbide mononitrate ER 30 mg' },
      { name: 'Coumadin (warfarin sodium)', dose: '5 mg' },
    ]);
    expect(meds.map((m) => m.ingredients)).toEqual([
      ['lopinavir', 'ritonavir'],
      ['aspirin', 'dipyridamole'],
      ['isosorbide mononitrate'],
      ['warfarin'],
    ]);
    expect(meds[3]!.dose).toBe('5 mg');
  });

  it('keeps unknown names, cleaned, and marks them unrecognised', () => {
    const [med] = normalizeMedications('Zyxofloxin 250 mg bid');
    expect(med).toMatchObject({ ingredients: ['zyxofloxin'], recognised: false });
  });

  it('assigns class membership', () => {
    expect(groupsOf('ibuprofen')).toContain('nsaids');
    expect(groupsOf('clarithromycin')).toEqual(
      expect.arrayContaining(['macrolides', 'strong_cyp3a4_inhibitors']),
    );
    expect(groupsOf('itraconazole')).toContain('azole_antifungals');
    expect(groupsOf('phenelzine')).toContain('mao_inhibitors');
    expect(groupsOf('sertraline')).toContain('serotonergic_antidepressants');
    expect(groupsOf('aspirin')).toEqual(['antiplatelets']);
  });

  it('resolves class names written by a model to the list member', () => {
    expect(resolveAgainstList('NSAIDs', ['warfarin', 'ibuprofen'])).toEqual(['ibuprofen']);
    expect(resolveAgainstList('Advil', ['warfarin', 'ibuprofen'])).toEqual(['ibuprofen']);
    expect(resolveAgainstList('digoxin', ['warfarin', 'ibuprofen'])).toEqual([]);
  });

  it('has a dictionary whose synonyms point at lowercase ingredient names', () => {
    for (const [key, ingredients] of Object.entries(DRUG_SYNONYMS)) {
      expect(key).toBe(key.toLowerCase());
      for (const ingredient of ingredients) expect(ingredient).toBe(ingredient.toLowerCase());
    }
    for (const group of Object.values(DRUG_GROUPS)) {
      for (const member of group.members) expect(member).toBe(member.toLowerCase());
    }
  });
});
