/**
 * `icd10-coding`: clinical text → ICD-10-CM candidates. Candidates are first retrieved from the
 * official code set by full-text search and offered to the model to choose from; every code the
 * model returns is then checked against the code set (format, existence, billable flag), its
 * description replaced by the code set's, and its evidence looked up in the input.
 */
import { Type } from 'typebox';
import { type ClinicalTask, type TaskFinding, TaskInputError, type TaskServices } from '../task.js';

export interface Icd10CodingInput {
  text: string;
  maxCodes?: number;
}

interface ModelCandidate {
  code?: unknown;
  description?: unknown;
  evidence?: unknown;
  confidence?: unknown;
}

export interface CheckedCode {
  code: string;
  description: string;
  billable: boolean;
  evidence: string;
  evidenceFound: boolean;
  confidence: number;
  /** Billable codes under a non-billable category the model chose. */
  suggestions?: Array<{ code: string; description: string }>;
}

export interface Icd10CodingOutput {
  codeSetYear: number | null;
  codes: CheckedCode[];
  /** Codes the model gave that are not valid ICD-10-CM codes; never shown as codes. */
  rejected: Array<{ code: string; reason: 'malformed' | 'unknown' }>;
}

const outputSchema = {
  type: 'object',
  properties: {
    candidates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          description: { type: 'string' },
          evidence: { type: 'string' },
          confidence: { type: 'number' },
        },
        required: ['code', 'description', 'evidence', 'confidence'],
      },
    },
  },
  required: ['candidates'],
};

const normalise = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

function codeSet(services: TaskServices) {
  if (!services.icd10) {
    throw new TaskInputError(
      'WARD_ICD10_UNAVAILABLE',
      'text',
      'the ICD-10-CM code set is not loaded: run `ward icd10 import <file>`',
      503,
    );
  }
  return services.icd10;
}

/**
 * Candidate codes for a text that may name several conditions: each clause is searched on its
 * own (so "hypertension and type 2 diabetes" finds both), then the whole text; results are
 * interleaved clause by clause so every condition gets its best matches in the list.
 */
async function retrieve(set: NonNullable<TaskServices['icd10']>, text: string, max = 40) {
  const clauses = [
    ...new Set(
      text
        .slice(0, 4000)
        .split(/[.;,:\n]+|\band\b/i)
        .map((c) => c.trim())
        .filter((c) => /[a-z]{3,}/i.test(c)),
    ),
  ].slice(0, 12);
  const lists = await Promise.all([
    ...clauses.map((c) => set.search(c, 8)),
    set.search(text.slice(0, 2000), 10),
  ]);
  const out = new Map<string, { code: string; description: string; billable: boolean }>();
  for (let rank = 0; rank < 10 && out.size < max; rank++) {
    for (const list of lists) {
      const hit = list[rank];
      if (hit && !out.has(hit.code) && out.size < max) out.set(hit.code, hit);
    }
  }
  return [...out.values()];
}

export const icd10CodingTask: ClinicalTask<Icd10CodingInput, Icd10CodingOutput> = {
  id: 'icd10-coding',
  title: 'Suggest ICD-10-CM codes for clinical text, checked against the official code set',
  roles: ['admin', 'provider'],
  defaultModel: 'mistral:7b',
  inputSchema: Type.Object({
    text: Type.String({ minLength: 1, maxLength: 50_000, description: 'Clinical text to code' }),
    maxCodes: Type.Optional(Type.Integer({ minimum: 1, maximum: 25 })),
  }),
  outputSchema,
  systemPrompt:
    'You are a certified clinical coder. Assign ICD-10-CM diagnosis codes supported by the documentation. ' +
    'Prefer codes from the candidate list. For every code quote the exact words of the text that support it as evidence, ' +
    'and give a confidence between 0 and 1. Answer only with JSON.',

  async prepare(input, services) {
    const hits = await retrieve(codeSet(services), input.text);
    const list = hits
      .map((h) => `${h.code} — ${h.description}${h.billable ? '' : ' (category, not billable)'}`)
      .join('\n');
    return {
      prompt:
        `Clinical text:\n"""\n${input.text}\n"""\n\n` +
        `Candidate ICD-10-CM codes from the official code set:\n${list || '(none found)'}\n\n` +
        `Return at most ${input.maxCodes ?? 10} codes.`,
      context: { retrieved: hits.map((h) => h.code) },
    };
  },

  validate(input, modelOutput, context, services) {
    const set = codeSet(services);
    const findings: TaskFinding[] = [];
    const text = normalise(input.text);
    const retrieved = new Set(
      ((context as { retrieved?: string[] } | undefined)?.retrieved ?? []).map((c) => c.toUpperCase()),
    );
    const raw = (modelOutput as { candidates?: unknown }).candidates;
    const candidates: ModelCandidate[] = Array.isArray(raw) ? raw : [];
    if (!Array.isArray(raw))
      findings.push({
        severity: 'error',
        code: 'ICD10_OUTPUT_MALFORMED',
        message: 'the answer has no candidates list',
        path: 'candidates',
      });
    const out: Icd10CodingOutput = { codeSetYear: set.fiscalYear ?? null, codes: [], rejected: [] };
    const seen = new Set<string>();
    candidates.forEach((c, i) => {
      const path = `candidates[${i}].code`;
      const given = typeof c.code === 'string' ? c.code.trim().toUpperCase() : '';
      if (!given || !set.isValidFormat(given)) {
        out.rejected.push({ code: given.slice(0, 16), reason: 'malformed' });
        findings.push({
          severity: 'error',
          code: 'ICD10_CODE_MALFORMED',
          message: `${path} is not an ICD-10-CM code; removed`,
          path,
        });
        return;
      }
      const entry = set.lookup(given);
      if (!entry) {
        out.rejected.push({ code: given, reason: 'unknown' });
        findings.push({
          severity: 'error',
          code: 'ICD10_CODE_UNKNOWN',
          message: `${path} ${given} does not exist in ICD-10-CM; removed`,
          path,
        });
        return;
      }
      if (seen.has(entry.code)) return;
      seen.add(entry.code);
      const evidence = typeof c.evidence === 'string' ? c.evidence : '';
      const evidenceFound = evidence.length > 0 && text.includes(normalise(evidence));
      const confidence =
        typeof c.confidence === 'number' && Number.isFinite(c.confidence)
          ? Math.min(1, Math.max(0, c.confidence))
          : 0;
      const checked: CheckedCode = {
        code: entry.code,
        description: entry.description,
        billable: entry.billable,
        evidence,
        evidenceFound,
        confidence,
      };
      const at = `candidates[${i}]`;
      if (!entry.billable) {
        checked.suggestions = set
          .childrenOf(entry.code, 10)
          .map((k) => ({ code: k.code, description: k.description }));
        findings.push({
          severity: 'warning',
          code: 'ICD10_CODE_NOT_BILLABLE',
          message: `${entry.code} is a category, not a billable code; choose a more specific code`,
          path: `${at}.code`,
        });
      }
      if (!evidenceFound) {
        findings.push({
          severity: 'warning',
          code: 'ICD10_EVIDENCE_NOT_IN_INPUT',
          message: `${at}.evidence is not a quote from the input`,
          path: `${at}.evidence`,
        });
      }
      if (retrieved.size > 0 && !retrieved.has(entry.code)) {
        findings.push({
          severity: 'info',
          code: 'ICD10_NOT_RETRIEVED',
          message: `${entry.code} was not among the retrieved candidates`,
          path: `${at}.code`,
        });
      }
      out.codes.push(checked);
    });
    if (out.codes.length === 0)
      findings.push({
        severity: 'warning',
        code: 'ICD10_NO_VALID_CODES',
        message: 'no valid ICD-10-CM code was suggested',
      });
    return { output: out, findings };
  },

  render(output) {
    const lines = output.codes.map(
      (c) =>
        `${c.code}  ${c.description}${c.billable ? '' : ' [category — not billable]'}  (confidence ${c.confidence.toFixed(2)})`,
    );
    if (output.rejected.length)
      lines.push(`Removed ${output.rejected.length} invalid code(s) suggested by the model.`);
    return [`ICD-10-CM (FY${output.codeSetYear ?? '?'}) suggestions:`, ...lines].join('\n');
  },
};
