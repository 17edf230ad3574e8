/**
 * AL1 → AllergyIntolerance: allergen AL1-3, category and type from AL1-2, criticality and reaction
 * severity from AL1-4, reaction manifestations AL1-5, onset AL1-6.
 */
import {
  ALLERGEN_CATEGORY,
  ALLERGY_CLINICAL,
  ALLERGY_CRITICALITY,
  ALLERGY_SEVERITY,
  ALLERGY_TYPES,
} from './code-systems.js';
import type { ConversionContext } from './context.js';
import { codeableConcept, cweCode } from './datatypes.js';
import type { AllergyIntolerance, Reference } from './fhir-types.js';
import { componentOf, type Hl7Segment } from './model.js';

/** Maps one AL1 for `patient`; returns its reference. */
export function mapAllergy(
  ctx: ConversionContext,
  al1: Hl7Segment,
  patient: Reference,
  encounter: Reference | undefined,
): Reference {
  const typeCode = cweCode(al1.first(2));
  const severityCode = cweCode(al1.first(4));
  // AL1 lists the patient's current allergies and has no status field; ait-1 requires a clinical status.
  const allergy: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active', display: 'Active' }] },
    patient,
  };
  if (ALLERGY_TYPES.has(typeCode)) allergy.type = 'allergy';
  const category = ALLERGEN_CATEGORY[typeCode];
  if (category) allergy.category = [category];
  const criticality = ALLERGY_CRITICALITY[severityCode];
  if (criticality) allergy.criticality = criticality;
  const code = codeableConcept(al1.first(3), ctx);
  if (code) allergy.code = code;
  else ctx.finding('warning', 'HL7_MISSING_FIELD', 'AL1-3 (allergen) is empty.', ctx.path(al1, 3));
  if (encounter) allergy.encounter = encounter;
  const onset = ctx.dateTime(al1, 6);
  if (onset !== undefined) allergy.onsetDateTime = onset;
  const manifestations = al1
    .repetitions(5)
    .map((rep) => componentOf(rep, 1).trim())
    .filter((x) => x !== '')
    .map((text) => ({ text }));
  if (manifestations.length > 0) {
    const severity = ALLERGY_SEVERITY[severityCode];
    allergy.reaction = [
      severity ? { manifestation: manifestations, severity } : { manifestation: manifestations },
    ];
  }
  return ctx.add(`AllergyIntolerance|${al1.index}`, () => allergy);
}
