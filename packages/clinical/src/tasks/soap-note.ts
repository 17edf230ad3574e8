/** `soap-note`: encounter text → a SOAP note with vitals, sections and vitals checked against the text. */
import {
  buildSoapNotePrompt,
  renderSoapNote,
  type SoapNoteInput,
  type SoapNoteOutput,
  soapNoteInputSchema,
  soapNoteOutputSchema,
  soapNoteSystemPrompt,
  validateSoapNote,
} from '../soap/soap-note.js';
import type { ClinicalTask } from '../task.js';

export const soapNoteTask: ClinicalTask<SoapNoteInput, SoapNoteOutput> = {
  id: 'soap-note',
  title: 'Write a SOAP note from encounter text, with vitals extracted and checked',
  roles: ['admin', 'provider'],
  defaultModel: 'mistral:7b',
  inputSchema: soapNoteInputSchema,
  outputSchema: JSON.parse(JSON.stringify(soapNoteOutputSchema)),
  systemPrompt: soapNoteSystemPrompt,
  prepare: (input) => ({ prompt: buildSoapNotePrompt(input) }),
  validate: (input, modelOutput) => validateSoapNote(input, modelOutput),
  render: renderSoapNote,
};
