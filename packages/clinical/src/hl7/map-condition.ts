/**
 * DG1 → Condition (category encounter-diagnosis): code DG1-3 (DG1-2 coding method and DG1-4
 * description as fallbacks), recordedDate DG1-5, asserter DG1-16; DG1-6 and DG1-15 become the
 * Encounter.diagnosis use and rank.
 */
import { CONDITION_CATEGORY, DIAGNOSIS_ROLE } from './code-systems.js';
import type { ConversionContext } from './context.js';
import { codeableConcept, cweCode, text } from './datatypes.js';
import type { CodeableConcept, Condition, Encounter, Reference } from './fhir-types.js';
import { practitionerRef } from './map-participants.js';
import type { Hl7Repetition, Hl7Segment } from './model.js';

/** DG1-6 (table 0052) → diagnosis-role. */
const DIAGNOSIS_USE: Record<string, { code: string; display: string }> = {
  A: { code: 'AD', display: 'Admission diagnosis' },
  F: { code: 'DD', display: 'Discharge diagnosis' },
};

/** DG1-3 with DG1-2 (deprecated coding method) standing in for an empty CWE.3. */
function diagnosisCode(ctx: ConversionContext, dg1: Hl7Segment): CodeableConcept | undefined {
  const rep = dg1.first(3);
  const method = dg1.value(2);
  const patched: Hl7Repetition | undefined =
    rep && (rep[2]?.[0] ?? '').trim() === '' && method !== ''
      ? [rep[0] ?? [''], rep[1] ?? [''], [method], ...rep.slice(3)]
      : rep;
  const description = text(dg1.value(4));
  return codeableConcept(patched, ctx, description === '' ? {} : { fallbackText: description });
}

/** Maps one DG1 for `subject`; links it from the Encounter when there is one. */
export function mapCondition(
  ctx: ConversionContext,
  dg1: Hl7Segment,
  subject: Reference,
  encounter: Reference | undefined,
): Reference {
  const condition: Condition = {
    resourceType: 'Condition',
    category: [
      {
        coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }],
      },
    ],
    subject,
  };
  const code = diagnosisCode(ctx, dg1);
  if (code) condition.code = code;
  else ctx.finding('warning', 'HL7_MISSING_FIELD', 'DG1-3 (diagnosis code) is empty.', ctx.path(dg1, 3));
  if (encounter) condition.encounter = encounter;
  const recorded = ctx.dateTime(dg1, 5);
  if (recorded !== undefined) condition.recordedDate = recorded;
  const asserter = practitionerRef(ctx, dg1.first(16));
  if (asserter) condition.asserter = asserter;
  const reference = ctx.add(`Condition|${dg1.index}`, () => condition);

  const enc = encounter ? (ctx.resourceOf(encounter) as Encounter | undefined) : undefined;
  if (enc) {
    const diagnosis: NonNullable<Encounter['diagnosis']>[number] = { condition: reference };
    const use = DIAGNOSIS_USE[cweCode(dg1.first(6))];
    if (use) diagnosis.use = { coding: [{ system: DIAGNOSIS_ROLE, ...use }] };
    const rank = text(dg1.value(15));
    if (/^[1-9]\d{0,3}$/.test(rank)) diagnosis.rank = Number(rank);
    enc.diagnosis = [...(enc.diagnosis ?? []), diagnosis];
  }
  return reference;
}
