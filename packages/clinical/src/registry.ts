import type { ClinicalTask } from './task.js';
import { drugInteractionsTask } from './tasks/drug-interactions.js';
import { hl7ToFhirTask } from './tasks/hl7-to-fhir.js';
import { icd10CodingTask } from './tasks/icd10-coding.js';
import { imageFindingsTask } from './tasks/image-findings.js';
import { soapNoteTask } from './tasks/soap-note.js';

/** Every clinical task Ward serves at `/api/tasks/<id>`. */
export function clinicalTasks(): ClinicalTask[] {
  return [soapNoteTask, icd10CodingTask, drugInteractionsTask, imageFindingsTask, hl7ToFhirTask];
}

/**
 * Model per task from `WARD_TASK_MODELS` (`task=model` pairs, comma separated), e.g.
 * `soap-note=mistral:7b,image-findings=llava:13b`. Unknown task ids are an error naming them.
 */
export function taskModelsFrom(
  spec: string | undefined,
  tasks: readonly ClinicalTask[],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!spec) return out;
  const ids = new Set(tasks.map((t) => t.id));
  for (const pair of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [id, model] = pair.split('=').map((s) => s.trim());
    if (!id || !model) throw new Error(`WARD_TASK_MODELS entries must look like task=model (got "${pair}")`);
    if (!ids.has(id))
      throw new Error(`WARD_TASK_MODELS names an unknown task "${id}" (tasks: ${[...ids].join(', ')})`);
    out[id] = model;
  }
  return out;
}
