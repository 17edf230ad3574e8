/**
 * Drug classes used by Ward's curated interaction table, as lists of ingredient names (lowercase INN/USAN).
 *
 * Where Phansalkar et al. (J Am Med Inform Assoc 2012;19(5):735-743, doi:10.1136/amiajnl-2011-000612,
 * Table 2) suggest a membership, the list follows it; where the paper's membership was not available to us,
 * or for the supplemental entries, the list is Ward's own curation from FDA labelling and is marked so.
 * These lists are reference data for a safety net, not a complete formulary: they need pharmacist review
 * before each release (see docs/drug-interactions.md).
 */

/** A named class of ingredients. */
export interface DrugGroup {
  /** Human label used in prompts, renderings and model-output matching (e.g. "NSAIDs"). */
  label: string;
  /** Other names a model or clinician may use for the class. */
  aliases: readonly string[];
  members: readonly string[];
  /** Where the membership comes from. */
  membershipSource: string;
}

const PHANSALKAR_TABLE_2 = 'Phansalkar 2012, Table 2 (suggested membership)';
const WARD_CURATED = 'Ward curation from FDA labelling (membership not taken from the ONC paper)';

const PROTEASE_INHIBITORS = [
  'atazanavir',
  'darunavir',
  'fosamprenavir',
  'indinavir',
  'lopinavir',
  'nelfinavir',
  'ritonavir',
  'saquinavir',
  'tipranavir',
] as const;

const STRONG_CYP3A4_INHIBITORS = [
  'ketoconazole',
  'itraconazole',
  'posaconazole',
  'voriconazole',
  'clarithromycin',
  'telithromycin',
  'nefazodone',
  'cobicistat',
  'ritonavir',
  'indinavir',
  'nelfinavir',
  'saquinavir',
  'lopinavir',
] as const;

/** Every class the table or the normaliser refers to, keyed by a stable id. */
export const DRUG_GROUPS = {
  amphetamine_derivatives: {
    label: 'amphetamine derivatives',
    aliases: ['amphetamines', 'stimulants', 'sympathomimetic amines'],
    members: [
      'amphetamine',
      'dextroamphetamine',
      'methamphetamine',
      'lisdexamfetamine',
      'methylphenidate',
      'dexmethylphenidate',
      'phendimetrazine',
      'pseudoephedrine',
      'benzphetamine',
      'diethylpropion',
      'phentermine',
      'atomoxetine',
    ],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  mao_inhibitors: {
    label: 'MAO inhibitors',
    aliases: [
      'maois',
      'maoi',
      'monoamine oxidase inhibitors',
      'mao inhibitor',
      'monoamine oxidase inhibitor',
    ],
    members: ['tranylcypromine', 'phenelzine', 'isocarboxazid', 'procarbazine', 'selegiline'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  proton_pump_inhibitors: {
    label: 'proton pump inhibitors',
    aliases: ['ppis', 'ppi', 'proton pump inhibitor'],
    members: ['omeprazole', 'esomeprazole', 'lansoprazole', 'dexlansoprazole', 'pantoprazole', 'rabeprazole'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  thiopurines: {
    label: 'azathioprine/mercaptopurine',
    aliases: ['thiopurines'],
    members: ['azathioprine', 'mercaptopurine'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  serotonergic_antidepressants: {
    label: 'SSRIs and other serotonergic antidepressants',
    aliases: [
      'ssris',
      'ssri',
      'snris',
      'snri',
      'serotonergic drugs',
      'serotonergic agents',
      'selective serotonin reuptake inhibitors',
      'serotonin reuptake inhibitors',
    ],
    members: [
      'fluoxetine',
      'paroxetine',
      'citalopram',
      'escitalopram',
      'sertraline',
      'fluvoxamine',
      'duloxetine',
      'nefazodone',
      'desvenlafaxine',
      'milnacipran',
      // Ward additions (close analogues; not visible in the paper's membership):
      'venlafaxine',
      'vilazodone',
    ],
    membershipSource: `${PHANSALKAR_TABLE_2}; venlafaxine and vilazodone added by Ward`,
  },
  irinotecan: {
    label: 'irinotecan',
    aliases: [],
    members: ['irinotecan'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  strong_cyp3a4_inhibitors: {
    label: 'strong CYP3A4 inhibitors',
    aliases: ['cyp3a4 inhibitors', 'strong cyp3a inhibitors', 'cyp3a inhibitors', 'potent cyp3a4 inhibitors'],
    members: STRONG_CYP3A4_INHIBITORS,
    membershipSource: WARD_CURATED,
  },
  narcotic_analgesics_serotonergic: {
    label: 'narcotic analgesics (serotonergic opioids)',
    aliases: ['narcotic analgesics', 'opioids', 'opioid analgesics', 'narcotics'],
    members: ['meperidine', 'methadone', 'tramadol', 'tapentadol', 'fentanyl'],
    membershipSource: WARD_CURATED,
  },
  tricyclic_antidepressants: {
    label: 'tricyclic antidepressants',
    aliases: ['tcas', 'tca', 'tricyclics'],
    members: [
      'amitriptyline',
      'nortriptyline',
      'imipramine',
      'desipramine',
      'clomipramine',
      'doxepin',
      'protriptyline',
      'trimipramine',
      'amoxapine',
    ],
    membershipSource: WARD_CURATED,
  },
  qt_prolonging_high_risk: {
    label: 'high-risk QT-prolonging agents',
    aliases: ['high risk qt prolonging agents'],
    members: [
      'arsenic trioxide',
      'cisapride',
      'dofetilide',
      'dronedarone',
      'mesoridazine',
      'pimozide',
      'thioridazine',
      'ziprasidone',
    ],
    membershipSource: WARD_CURATED,
  },
  qt_prolonging: {
    label: 'QT-prolonging agents',
    aliases: ['qt prolonging agents', 'qt prolonging drugs', 'qt-prolonging drugs'],
    members: [
      // the high-risk agents also prolong QT
      'arsenic trioxide',
      'cisapride',
      'dofetilide',
      'dronedarone',
      'mesoridazine',
      'pimozide',
      'thioridazine',
      'ziprasidone',
      // antiarrhythmics
      'amiodarone',
      'sotalol',
      'quinidine',
      'procainamide',
      'disopyramide',
      'ibutilide',
      // antipsychotics, antiemetics
      'haloperidol',
      'chlorpromazine',
      'droperidol',
      'ondansetron',
      // antidepressants, opioids
      'citalopram',
      'escitalopram',
      'methadone',
      // anti-infectives
      'erythromycin',
      'clarithromycin',
      'azithromycin',
      'levofloxacin',
      'moxifloxacin',
      'ciprofloxacin',
      'fluconazole',
      'chloroquine',
      'hydroxychloroquine',
      'pentamidine',
      // others
      'donepezil',
    ],
    membershipSource: WARD_CURATED,
  },
  ramelteon: {
    label: 'ramelteon',
    aliases: [],
    members: ['ramelteon'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  strong_cyp1a2_inhibitors: {
    label: 'strong CYP1A2 inhibitors',
    aliases: ['cyp1a2 inhibitors'],
    members: ['fluvoxamine', 'ciprofloxacin', 'enoxacin'],
    membershipSource: WARD_CURATED,
  },
  tizanidine_cyp1a2_inhibitors: {
    label: 'CYP1A2 inhibitors contraindicated with tizanidine',
    aliases: [],
    members: ['fluvoxamine', 'ciprofloxacin'],
    membershipSource: 'Ward curation from the tizanidine FDA label (Contraindications)',
  },
  strong_cyp3a4_inducers: {
    label: 'strong CYP3A4 inducers',
    aliases: ['cyp3a4 inducers', 'strong cyp3a inducers', 'enzyme inducers'],
    members: ['rifampin', 'rifapentine', 'carbamazepine', 'phenytoin', 'phenobarbital', 'st johns wort'],
    membershipSource: WARD_CURATED,
  },
  protease_inhibitors: {
    label: 'HIV protease inhibitors',
    aliases: ['protease inhibitors', 'pis', 'hiv protease inhibitors'],
    members: PROTEASE_INHIBITORS,
    membershipSource: WARD_CURATED,
  },
  cyp3a4_and_protease_inhibitors: {
    label: 'strong CYP3A4 inhibitors and HIV protease inhibitors',
    aliases: [],
    members: [...new Set([...STRONG_CYP3A4_INHIBITORS, ...PROTEASE_INHIBITORS, 'erythromycin'])],
    membershipSource: WARD_CURATED,
  },
  cyp3a4_dependent_statins: {
    label: 'HMG-CoA reductase inhibitors (lovastatin, simvastatin)',
    aliases: ['statins', 'hmg-coa reductase inhibitors', 'hmg coa reductase inhibitors'],
    members: ['lovastatin', 'simvastatin'],
    membershipSource: WARD_CURATED,
  },
  ergot_alkaloids: {
    label: 'ergot alkaloids',
    aliases: ['ergots', 'ergot derivatives'],
    members: ['ergotamine', 'dihydroergotamine', 'methylergonovine', 'ergonovine'],
    membershipSource: WARD_CURATED,
  },
  tizanidine: {
    label: 'tizanidine',
    aliases: [],
    members: ['tizanidine'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  tranylcypromine: {
    label: 'tranylcypromine',
    aliases: [],
    members: ['tranylcypromine'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  procarbazine: {
    label: 'procarbazine',
    aliases: [],
    members: ['procarbazine'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  triptans: {
    label: 'triptans (MAO-A metabolised)',
    aliases: ['triptans', '5-ht1 agonists'],
    members: ['sumatriptan', 'rizatriptan', 'zolmitriptan'],
    membershipSource: WARD_CURATED,
  },
  atazanavir: {
    label: 'atazanavir',
    aliases: [],
    members: ['atazanavir'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  febuxostat: {
    label: 'febuxostat',
    aliases: [],
    members: ['febuxostat'],
    membershipSource: PHANSALKAR_TABLE_2,
  },
  // Classes used by the supplemental entries and by normalisation only.
  vitamin_k_antagonists: {
    label: 'warfarin',
    aliases: ['vitamin k antagonists', 'coumarins', 'oral anticoagulants'],
    members: ['warfarin'],
    membershipSource: WARD_CURATED,
  },
  antiplatelets: {
    label: 'antiplatelet agents',
    aliases: ['antiplatelets', 'antiplatelet drugs', 'platelet inhibitors'],
    members: [
      'aspirin',
      'clopidogrel',
      'prasugrel',
      'ticagrelor',
      'ticlopidine',
      'cilostazol',
      'dipyridamole',
    ],
    membershipSource:
      'FDA warfarin label, section 7 (drugs that increase bleeding risk); ticagrelor added by Ward',
  },
  nsaids: {
    label: 'NSAIDs',
    aliases: ['nsaid', 'non-steroidal anti-inflammatory drugs', 'nonsteroidal anti-inflammatory drugs'],
    members: [
      'ibuprofen',
      'naproxen',
      'diclofenac',
      'celecoxib',
      'meloxicam',
      'indomethacin',
      'ketorolac',
      'ketoprofen',
      'piroxicam',
      'sulindac',
      'etodolac',
      'nabumetone',
      'oxaprozin',
      'diflunisal',
      'fenoprofen',
      'flurbiprofen',
      'mefenamic acid',
      'tolmetin',
    ],
    membershipSource: 'FDA warfarin label, section 7; aspirin is listed there as an antiplatelet agent',
  },
  nitrates: {
    label: 'nitrates',
    aliases: ['organic nitrates', 'nitrate'],
    members: ['nitroglycerin', 'isosorbide mononitrate', 'isosorbide dinitrate', 'amyl nitrite'],
    membershipSource: WARD_CURATED,
  },
  pde5_inhibitors: {
    label: 'PDE5 inhibitors',
    aliases: [
      'pde5 inhibitors',
      'pde-5 inhibitors',
      'phosphodiesterase-5 inhibitors',
      'phosphodiesterase 5 inhibitors',
    ],
    members: ['sildenafil', 'tadalafil', 'vardenafil', 'avanafil'],
    membershipSource: WARD_CURATED,
  },
  azole_antifungals: {
    label: 'azole antifungals',
    aliases: ['azoles', 'azole antifungal'],
    members: [
      'ketoconazole',
      'itraconazole',
      'posaconazole',
      'voriconazole',
      'fluconazole',
      'isavuconazonium',
    ],
    membershipSource: WARD_CURATED,
  },
  macrolides: {
    label: 'macrolide antibiotics',
    aliases: ['macrolides', 'macrolide'],
    members: ['clarithromycin', 'erythromycin', 'azithromycin', 'telithromycin'],
    membershipSource: WARD_CURATED,
  },
} as const satisfies Record<string, DrugGroup>;

/** Stable id of a drug class. */
export type DrugGroupId = keyof typeof DRUG_GROUPS;

/** Ids of every class an ingredient belongs to. */
export function groupsOf(ingredient: string): DrugGroupId[] {
  const ids: DrugGroupId[] = [];
  for (const [id, group] of Object.entries(DRUG_GROUPS) as [DrugGroupId, DrugGroup][]) {
    if (group.members.includes(ingredient)) ids.push(id);
  }
  return ids;
}

/** True when the ingredient is a member of the class. */
export function isMember(ingredient: string, group: DrugGroupId): boolean {
  return (DRUG_GROUPS[group].members as readonly string[]).includes(ingredient);
}
