/** `drug-interactions`: a medication list → interactions; the curated high-priority table always wins. */
import {
  buildDrugInteractionsPrompt,
  type DrugInteractionsInput,
  type DrugInteractionsOutput,
  drugInteractionsInputSchema,
  drugInteractionsOutputSchema,
  drugInteractionsSystemPrompt,
  renderDrugInteractions,
  validateDrugInteractions,
} from '../drugs/drug-interactions.js';
import type { ClinicalTask } from '../task.js';

export const drugInteractionsTask: ClinicalTask<DrugInteractionsInput, DrugInteractionsOutput> = {
  id: 'drug-interactions',
  title: 'Check a medication list for interactions (curated high-priority pairs are always checked)',
  roles: ['admin', 'provider'],
  defaultModel: 'mistral:7b',
  inputSchema: drugInteractionsInputSchema,
  outputSchema: JSON.parse(JSON.stringify(drugInteractionsOutputSchema)),
  systemPrompt: drugInteractionsSystemPrompt,
  prepare: (input) => ({ prompt: buildDrugInteractionsPrompt(input) }),
  validate: (input, modelOutput) => validateDrugInteractions(input, modelOutput),
  render: renderDrugInteractions,
};
