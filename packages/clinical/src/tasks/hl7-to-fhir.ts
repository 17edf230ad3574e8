/**
 * `hl7-to-fhir`: an HL7 v2 message → a FHIR R4 Bundle, converted deterministically (no model)
 * and validated for FHIR structure. It runs in the gateway at once and never waits in a GPU
 * queue; a model-written narrative is added only when the caller asks for one.
 */
import { Type } from 'typebox';
import { convertHl7ToFhir } from '../hl7/convert.js';
import { Hl7ParseError } from '../hl7/errors.js';
import type { FhirBundle } from '../hl7/fhir-types.js';
import { validateBundle } from '../hl7/validate.js';
import { type ClinicalTask, TaskInputError } from '../task.js';

export interface Hl7ToFhirInput {
  message: string;
  narrative?: boolean;
}

export const hl7ToFhirTask: ClinicalTask<Hl7ToFhirInput, FhirBundle> = {
  id: 'hl7-to-fhir',
  title: 'Convert an HL7 v2 message (ADT, ORU) to a FHIR R4 Bundle, deterministically',
  roles: ['admin', 'provider'],
  defaultModel: 'mistral:7b',
  inputSchema: Type.Object({
    message: Type.String({
      minLength: 1,
      maxLength: 1_000_000,
      description: 'HL7 v2 text; segments end in CR, LF or CRLF',
    }),
    narrative: Type.Optional(Type.Boolean({ description: 'Also ask a model for a short narrative summary' })),
  }),
  run(input) {
    try {
      const { bundle, findings } = convertHl7ToFhir(input.message);
      const structure = validateBundle(bundle);
      return { output: bundle, findings: [...findings, ...structure] };
    } catch (err) {
      if (err instanceof Hl7ParseError) {
        const e = new TaskInputError(err.code, 'message', `message ${err.message}`, err.statusCode);
        Object.assign(e, { segment: err.segment, hl7Field: err.field });
        throw e;
      }
      throw err;
    }
  },
  narrativePrompt: (bundle) =>
    'Summarise this FHIR R4 Bundle for a clinician in at most five sentences: who the patient is, the encounter, ' +
    `and notable results, allergies and diagnoses. Do not invent anything.\n\n${JSON.stringify(bundle).slice(0, 60_000)}`,
  render(bundle) {
    const counts = new Map<string, number>();
    for (const e of bundle.entry ?? []) {
      const t = (e.resource as { resourceType?: string } | undefined)?.resourceType ?? 'Unknown';
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    return `FHIR R4 ${bundle.type} bundle: ${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}`;
  },
};
