/**
 * Medication-list normalisation: free text or structured entries → ingredient names and classes.
 * Deterministic and dictionary-based; a name it does not know is kept (lowercased) and marked unrecognised.
 */
import { DRUG_GROUPS, type DrugGroup, type DrugGroupId, groupsOf } from './drug-groups.js';
import { DRUG_SYNONYMS } from './synonyms.js';

/** One medication as the caller gave it, or as split out of free text. */
export interface MedicationEntry {
  name: string;
  dose?: string;
}

/** A medication entry resolved to ingredients. */
export interface NormalizedMedication {
  /** Position in the (split) medication list; used in finding paths (`medications[i]`). */
  index: number;
  /** The name as given (dose text removed for free-text entries). */
  name: string;
  dose?: string;
  /** Ingredient names; several for combination products. Never empty. */
  ingredients: string[];
  /** False when no ingredient was found in Ward's dictionary: only the model can speak to it. */
  recognised: boolean;
}

const DOSE_PATTERN =
  /(\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|ug|g|gm|ml|mL|l|units?|iu|meq|mmol|%|mg\/ml|mcg\/hr|mcg\/h|puffs?|tabs?|tablets?|caps?|capsules?)(?![a-z]).*)$/i;

/** Words that end a drug name in free text (route, frequency, formulation). */
const NAME_STOP_WORDS = new Set([
  'po',
  'iv',
  'im',
  'sc',
  'sq',
  'subq',
  'sl',
  'pr',
  'top',
  'inh',
  'daily',
  'qd',
  'od',
  'bid',
  'tid',
  'qid',
  'qhs',
  'hs',
  'prn',
  'qam',
  'qpm',
  'weekly',
  'nightly',
  'once',
  'twice',
  'every',
  'q4h',
  'q6h',
  'q8h',
  'q12h',
  'q24h',
  'tablet',
  'tablets',
  'tab',
  'tabs',
  'capsule',
  'capsules',
  'cap',
  'caps',
  'patch',
  'injection',
  'solution',
  'suspension',
  'cream',
  'er',
  'xr',
  'sr',
  'cr',
  'la',
  'xl',
  'dr',
  'ec',
  'odt',
  'sodium',
  'potassium',
  'calcium',
  'hydrochloride',
  'hcl',
  'sulfate',
  'sulphate',
  'mesylate',
  'maleate',
  'tartrate',
  'succinate',
  'besylate',
  'citrate',
  'magnesium',
  'for',
  'with',
  'at',
  'in',
  'on',
  'x',
]);

/** Lowercase, strip apostrophes and most punctuation, collapse whitespace. */
export function normaliseDrugText(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/['’`]/g, '')
    .replace(/(\p{L})\.(?=\s|$)/gu, '$1')
    .replace(/[^\p{L}\p{N}/\-.%\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

interface Lexicon {
  names: Map<string, readonly string[]>;
  maxWords: number;
}

let lexicon: Lexicon | undefined;

function getLexicon(): Lexicon {
  if (lexicon) return lexicon;
  const names = new Map<string, readonly string[]>();
  for (const group of Object.values(DRUG_GROUPS) as DrugGroup[]) {
    for (const member of group.members) names.set(member, [member]);
  }
  for (const [key, ingredients] of Object.entries(DRUG_SYNONYMS)) names.set(key, ingredients);
  let maxWords = 1;
  for (const key of names.keys()) maxWords = Math.max(maxWords, key.split(' ').length);
  lexicon = { names, maxWords };
  return lexicon;
}

/**
 * Finds every known drug name in a short text (longest match first) and returns their ingredients.
 * "Coumadin (warfarin) 5 mg" → ["warfarin"]; "aspirin/dipyridamole" → ["aspirin", "dipyridamole"].
 */
export function lookupIngredients(text: string): string[] {
  const { names, maxWords } = getLexicon();
  const words = normaliseDrugText(text)
    .split(/[\s/]+/)
    .map((w) => w.replace(/^[-.]+|[-.]+$/g, ''))
    .filter((w) => w.length > 0);
  const found: string[] = [];
  let i = 0;
  while (i < words.length) {
    let matched = 0;
    for (let n = Math.min(maxWords, words.length - i); n >= 1; n--) {
      const hit = names.get(words.slice(i, i + n).join(' '));
      if (hit) {
        for (const ingredient of hit) if (!found.includes(ingredient)) found.push(ingredient);
        matched = n;
        break;
      }
    }
    i += matched > 0 ? matched : 1;
  }
  return found;
}

/** The drug-name part of a free-text entry: everything before the dose, route or frequency. */
function namePart(text: string): string {
  const words = normaliseDrugText(text).split(' ');
  const kept: string[] = [];
  for (const word of words) {
    if (/\d/.test(word) || NAME_STOP_WORDS.has(word)) break;
    kept.push(word);
  }
  return kept.join(' ').trim();
}

/**
 * Splits a free-text medication list into entries.
 * Separators: commas, semicolons, new lines, " and ", " plus ", "&", " + ".
 */
export function splitMedicationText(text: string): MedicationEntry[] {
  return text
    .split(/[,;\n\r]+|\s+(?:and|plus|&|\+)\s+/i)
    .map((part) => part.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const doseMatch = DOSE_PATTERN.exec(part);
      const dose = doseMatch?.[1]?.trim();
      const name = doseMatch ? part.slice(0, doseMatch.index).trim() : part;
      return dose ? { name: name.length > 0 ? name : part, dose } : { name: part };
    });
}

/** Resolves one entry; unrecognised names keep their cleaned name as the single "ingredient". */
export function normalizeMedication(entry: MedicationEntry, index: number): NormalizedMedication {
  const ingredients = lookupIngredients(entry.name);
  const base = entry.dose ? { index, name: entry.name, dose: entry.dose } : { index, name: entry.name };
  if (ingredients.length > 0) return { ...base, ingredients, recognised: true };
  const cleaned = namePart(entry.name) || normaliseDrugText(entry.name);
  return { ...base, ingredients: [cleaned], recognised: false };
}

/** Normalises a medication list given as free text or as structured entries. */
export function normalizeMedications(
  medications: string | readonly MedicationEntry[],
): NormalizedMedication[] {
  const entries = typeof medications === 'string' ? splitMedicationText(medications) : medications;
  return entries.map((entry, index) => normalizeMedication(entry, index));
}

/**
 * Resolves a drug name written by the model against the patient's ingredients.
 * Accepts ingredient names, brands and class names ("NSAIDs" → the NSAID on the list).
 * Returns the matching ingredients on the list (empty when the name refers to nothing on the list).
 */
export function resolveAgainstList(name: string, listIngredients: readonly string[]): string[] {
  const direct = lookupIngredients(name).filter((ingredient) => listIngredients.includes(ingredient));
  if (direct.length > 0) return direct;
  const text = normaliseDrugText(name);
  for (const [id, group] of Object.entries(DRUG_GROUPS) as [DrugGroupId, DrugGroup][]) {
    const labels = [group.label.toLowerCase(), ...group.aliases];
    if (!labels.includes(text)) continue;
    const members = listIngredients.filter((ingredient) => groupsOf(ingredient).includes(id));
    if (members.length > 0) return members;
  }
  return [];
}
