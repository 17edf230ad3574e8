/**
 * Ward's curated table of high-priority drug-drug interactions.
 *
 * Primary source — the ONC-sponsored high-priority list (15 interactions):
 *   Phansalkar S, Desai AA, Bell D, et al. High-priority drug-drug interactions for use in electronic
 *   health records. J Am Med Inform Assoc. 2012;19(5):735-743. doi:10.1136/amiajnl-2011-000612
 * The 15 pairs were cross-checked against the list as restated in Am J Health Syst Pharm.
 * 2022;79(13):1086-1095 (doi:10.1093/ajhp/zxac045, Table 4). The panel regarded every pair on the list as
 * contraindicated for concurrent use, so every ONC entry here has severity `contraindicated`.
 *
 * Not on the ONC list, and therefore added as clearly labelled supplemental entries with their own sources:
 *   - warfarin + antiplatelet agents (including aspirin) and warfarin + NSAIDs: the ONC list does not
 *     include warfarin at all; the FDA warfarin (Coumadin) label warns of bleeding risk and lists these
 *     classes among drugs that increase bleeding risk (Boxed Warning; section 7, Table of drugs that can
 *     increase the risk of bleeding).
 *   - nitrates + PDE5 inhibitors: considered by the ONC panel and not accepted onto the list (Phansalkar
 *     2012, Table 3); the sildenafil, tadalafil, vardenafil and avanafil FDA labels list concomitant
 *     nitrates as a contraindication (section 4).
 *
 * Mechanism and management text is Ward's own summary, written for clinicians; it is not copied from
 * the sources. Class memberships live in `drug-groups.ts`.
 */
import { DRUG_GROUPS, type DrugGroupId, isMember } from './drug-groups.js';

/** Severity scale shared with the task output. */
export type InteractionSeverity = 'contraindicated' | 'major' | 'moderate' | 'minor';

/** Provenance of a curated entry. */
export type CuratedSource = 'ward-curated:onc-high-priority' | 'ward-curated:supplemental';

/** One curated rule: any member of `object` together with any member of `precipitant`. */
export interface CuratedInteractionRule {
  /** Stable id used in findings (`onc-hp-01` … `onc-hp-15`, `ward-sup-01` …). */
  id: string;
  object: DrugGroupId;
  precipitant: DrugGroupId;
  severity: InteractionSeverity;
  mechanism: string;
  management: string;
  source: CuratedSource;
  /** Full citation of the source this entry rests on. */
  citation: string;
}

/** Citation of the ONC high-priority list. */
export const ONC_HIGH_PRIORITY_CITATION =
  'Phansalkar S, Desai AA, Bell D, et al. High-priority drug-drug interactions for use in electronic health records. J Am Med Inform Assoc. 2012;19(5):735-743. doi:10.1136/amiajnl-2011-000612';

const WARFARIN_LABEL_CITATION =
  'FDA prescribing information for Coumadin (warfarin sodium): Boxed Warning (bleeding risk) and section 7, drugs that increase bleeding risk (antiplatelet agents, NSAIDs). Not on the ONC high-priority list.';

const PDE5_LABEL_CITATION =
  'FDA prescribing information for sildenafil (Viagra/Revatio), tadalafil (Cialis/Adcirca), vardenafil (Levitra) and avanafil (Stendra), section 4 Contraindications: concomitant organic nitrates. Considered but not accepted onto the ONC list (Phansalkar 2012, Table 3).';

const ONC = 'ward-curated:onc-high-priority' as const;

/** The curated table. Order matters only for ties: the first matching rule of the highest severity wins. */
export const CURATED_INTERACTIONS: readonly CuratedInteractionRule[] = [
  {
    id: 'onc-hp-01',
    object: 'amphetamine_derivatives',
    precipitant: 'mao_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'MAO inhibition prevents breakdown of the noradrenaline released by amphetamine-like drugs; risk of hypertensive crisis.',
    management: 'Do not combine; allow at least 14 days after stopping the MAO inhibitor.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-02',
    object: 'atazanavir',
    precipitant: 'proton_pump_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'Atazanavir needs gastric acid to dissolve; proton pump inhibitors sharply reduce its absorption and exposure, risking virological failure and resistance.',
    management: 'Avoid the combination; follow HIV guidance for acid suppression (e.g. timed H2 blocker).',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-03',
    object: 'febuxostat',
    precipitant: 'thiopurines',
    severity: 'contraindicated',
    mechanism:
      'Xanthine oxidase inhibition blocks thiopurine inactivation, raising mercaptopurine levels; risk of severe bone-marrow suppression.',
    management: 'Do not combine; choose an alternative urate-lowering or immunosuppressive strategy.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-04',
    object: 'serotonergic_antidepressants',
    precipitant: 'mao_inhibitors',
    severity: 'contraindicated',
    mechanism: 'Additive serotonergic effect; risk of serotonin syndrome, which can be fatal.',
    management:
      'Do not combine; respect washout periods (at least 14 days after an MAO inhibitor, 5 weeks after fluoxetine).',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-05',
    object: 'irinotecan',
    precipitant: 'strong_cyp3a4_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'Strong CYP3A4 inhibition raises exposure to irinotecan and its active metabolite SN-38; risk of severe neutropenia and diarrhoea.',
    management:
      'Stop the strong CYP3A4 inhibitor at least 1 week before irinotecan, or choose another agent.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-06',
    object: 'narcotic_analgesics_serotonergic',
    precipitant: 'mao_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'Opioids with serotonergic activity (e.g. meperidine, tramadol, methadone) with MAO inhibitors can cause serotonin syndrome or severe excitatory reactions.',
    management: 'Do not combine; choose a non-serotonergic analgesic under specialist advice.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-07',
    object: 'tricyclic_antidepressants',
    precipitant: 'mao_inhibitors',
    severity: 'contraindicated',
    mechanism: 'Combined monoamine effects; risk of serotonin syndrome and hypertensive reactions.',
    management: 'Do not combine; respect a washout of at least 14 days.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-08',
    object: 'qt_prolonging_high_risk',
    precipitant: 'qt_prolonging',
    severity: 'contraindicated',
    mechanism: 'Additive QT-interval prolongation; risk of torsades de pointes and sudden cardiac death.',
    management: 'Avoid the combination; if unavoidable, obtain ECG and electrolytes and monitor QTc.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-09',
    object: 'ramelteon',
    precipitant: 'strong_cyp1a2_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'Strong CYP1A2 inhibition (e.g. fluvoxamine) raises ramelteon exposure many-fold; excessive sedation.',
    management: 'Do not combine; choose another hypnotic.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-10',
    object: 'protease_inhibitors',
    precipitant: 'strong_cyp3a4_inducers',
    severity: 'contraindicated',
    mechanism:
      'Strong CYP3A4 induction (e.g. rifampin, St John’s wort) lowers protease-inhibitor exposure; risk of virological failure and resistance.',
    management: 'Do not combine; use an alternative antimycobacterial or anticonvulsant per HIV guidance.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-11',
    object: 'cyp3a4_dependent_statins',
    precipitant: 'cyp3a4_and_protease_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'Lovastatin and simvastatin depend on CYP3A4; strong inhibitors and protease inhibitors raise statin exposure many-fold; risk of myopathy and rhabdomyolysis.',
    management:
      'Do not combine; withhold the statin during the course or switch to a statin not dependent on CYP3A4.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-12',
    object: 'ergot_alkaloids',
    precipitant: 'cyp3a4_and_protease_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'CYP3A4 inhibition raises ergot alkaloid exposure; risk of ergotism with severe peripheral and cerebral ischaemia.',
    management: 'Do not combine; use an alternative migraine or uterotonic treatment.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-13',
    object: 'tizanidine',
    precipitant: 'tizanidine_cyp1a2_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'CYP1A2 inhibition (fluvoxamine, ciprofloxacin) raises tizanidine exposure many-fold; severe hypotension and sedation.',
    management: 'Do not combine; choose another muscle relaxant or another anti-infective/antidepressant.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-14',
    object: 'tranylcypromine',
    precipitant: 'procarbazine',
    severity: 'contraindicated',
    mechanism: 'Procarbazine has MAO-inhibiting activity; additive MAO inhibition risks hypertensive crisis.',
    management: 'Do not combine.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'onc-hp-15',
    object: 'triptans',
    precipitant: 'mao_inhibitors',
    severity: 'contraindicated',
    mechanism:
      'MAO-A inhibition blocks the metabolism of sumatriptan, rizatriptan and zolmitriptan; raised exposure and serotonergic toxicity.',
    management:
      'Do not combine, and not within 2 weeks of stopping the MAO inhibitor; consider a triptan not cleared by MAO-A.',
    source: ONC,
    citation: ONC_HIGH_PRIORITY_CITATION,
  },
  {
    id: 'ward-sup-01',
    object: 'vitamin_k_antagonists',
    precipitant: 'antiplatelets',
    severity: 'major',
    mechanism:
      'Antiplatelet effect (and, for aspirin, gastric mucosal injury) adds to anticoagulation; increased risk of serious bleeding, often without a change in INR.',
    management:
      'Combine only with a clear indication (e.g. mechanical valve, recent stent); use the lowest aspirin dose, consider gastroprotection, monitor for bleeding and INR.',
    source: 'ward-curated:supplemental',
    citation: WARFARIN_LABEL_CITATION,
  },
  {
    id: 'ward-sup-02',
    object: 'vitamin_k_antagonists',
    precipitant: 'nsaids',
    severity: 'major',
    mechanism:
      'NSAIDs inhibit platelet function and injure gastric mucosa, and some raise the anticoagulant response; increased risk of gastrointestinal and other bleeding.',
    management:
      'Avoid; prefer paracetamol/acetaminophen. If an NSAID is essential, use briefly with gastroprotection and monitor INR and for bleeding.',
    source: 'ward-curated:supplemental',
    citation: WARFARIN_LABEL_CITATION,
  },
  {
    id: 'ward-sup-03',
    object: 'pde5_inhibitors',
    precipitant: 'nitrates',
    severity: 'contraindicated',
    mechanism: 'Both raise cyclic GMP and dilate vessels; risk of profound, potentially fatal hypotension.',
    management:
      'Do not combine; no nitrate within 24 h of sildenafil/vardenafil or 48 h of tadalafil unless under close medical supervision.',
    source: 'ward-curated:supplemental',
    citation: PDE5_LABEL_CITATION,
  },
];

const SEVERITY_RANK: Record<InteractionSeverity, number> = {
  contraindicated: 4,
  major: 3,
  moderate: 2,
  minor: 1,
};

/** Numeric rank of a severity (higher is more severe). */
export function severityRank(severity: InteractionSeverity): number {
  return SEVERITY_RANK[severity];
}

/** A curated rule that matched a pair of ingredients. */
export interface CuratedMatch {
  rule: CuratedInteractionRule;
  /** [object ingredient, precipitant ingredient]. */
  drugs: [string, string];
}

/** The most severe curated rule (first on ties) for two ingredients, in either order, or `undefined`. */
export function matchCuratedRule(a: string, b: string): CuratedMatch | undefined {
  if (a === b) return undefined;
  let best: CuratedMatch | undefined;
  for (const rule of CURATED_INTERACTIONS) {
    let drugs: [string, string] | undefined;
    if (isMember(a, rule.object) && isMember(b, rule.precipitant)) drugs = [a, b];
    else if (isMember(b, rule.object) && isMember(a, rule.precipitant)) drugs = [b, a];
    if (drugs && (!best || severityRank(rule.severity) > severityRank(best.rule.severity))) {
      best = { rule, drugs };
    }
  }
  return best;
}

/**
 * Every curated interaction among a list of ingredient sets (one set per medication entry).
 * Ingredients of the same co-formulated product are not checked against each other.
 */
export function findCuratedInteractions(entries: readonly (readonly string[])[]): CuratedMatch[] {
  const sources = new Map<string, Set<number>>();
  entries.forEach((ingredients, index) => {
    for (const ingredient of ingredients) {
      const set = sources.get(ingredient) ?? new Set<number>();
      set.add(index);
      sources.set(ingredient, set);
    }
  });
  const ingredients = [...sources.keys()];
  const matches: CuratedMatch[] = [];
  for (let i = 0; i < ingredients.length; i++) {
    for (let j = i + 1; j < ingredients.length; j++) {
      const a = ingredients[i]!;
      const b = ingredients[j]!;
      const sa = sources.get(a)!;
      const sb = sources.get(b)!;
      const sameProductOnly = sa.size === 1 && sb.size === 1 && [...sa][0] === [...sb][0];
      if (sameProductOnly) continue;
      const match = matchCuratedRule(a, b);
      if (match) matches.push(match);
    }
  }
  return matches.sort((x, y) => severityRank(y.rule.severity) - severityRank(x.rule.severity));
}

/** Label of a rule for renderings and docs, e.g. "warfarin + antiplatelet agents". */
export function ruleTitle(rule: CuratedInteractionRule): string {
  return `${DRUG_GROUPS[rule.object].label} + ${DRUG_GROUPS[rule.precipitant].label}`;
}
