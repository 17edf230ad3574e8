import type { Role } from '@ward/contracts';
import type { TSchema } from 'typebox';

/** A deterministic check's verdict on part of a task's output. Messages name fields, never patient data. */
export interface TaskFinding {
  severity: 'error' | 'warning' | 'info';
  /** Stable machine-readable code, e.g. `ICD10_CODE_UNKNOWN`. */
  code: string;
  message: string;
  /** Where in the output it applies, e.g. `candidates[2].code`. */
  path?: string;
}

/** What a task asks of the model: a prompt, images, and the JSON schema its answer must follow. */
export interface ModelCall {
  prompt: string;
  images?: string[];
  /** Extra material the validator needs later (e.g. retrieved candidate codes); never sent to clients. */
  context?: unknown;
}

/** Services a task may use while preparing or validating. */
export interface TaskServices {
  /** Full-text candidates from the ICD-10-CM code set. */
  icd10?: {
    lookup(code: string): { code: string; billable: boolean; description: string } | undefined;
    isValidFormat(code: string): boolean;
    childrenOf(code: string, limit?: number): Array<{ code: string; description: string }>;
    search(
      text: string,
      limit: number,
    ): Promise<Array<{ code: string; description: string; billable: boolean }>>;
    fiscalYear?: number;
  };
}

/** A validated task result. */
export interface TaskOutcome<O = unknown> {
  output: O;
  findings: TaskFinding[];
}

/**
 * One clinical task: who may run it, which model by default, how it prompts, the output schema
 * sent to Ollama as `format`, and the deterministic checks run on the answer.
 */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds tasks of many input and output types
export interface ClinicalTask<I = any, O = any> {
  id: string;
  title: string;
  roles: readonly Role[];
  /** Default model; deployments override it with `TASK_MODEL_<ID>` (e.g. TASK_MODEL_SOAP_NOTE). */
  defaultModel?: string;
  /** Vision task: the prompt carries an image. */
  vision?: boolean;
  inputSchema: TSchema;
  /** JSON schema of the model's answer (sent as Ollama `format`). */
  outputSchema?: Record<string, unknown>;
  systemPrompt?: string;
  /** Builds the model call; absent for tasks that need no model. */
  prepare?(input: I, services: TaskServices): Promise<ModelCall> | ModelCall;
  /** Checks (and corrects) the model's parsed answer. */
  validate?(
    input: I,
    modelOutput: unknown,
    context: unknown,
    services: TaskServices,
  ): Promise<TaskOutcome<O>> | TaskOutcome<O>;
  /** Runs the whole task without a model (deterministic tasks). */
  run?(input: I, services: TaskServices): Promise<TaskOutcome<O>> | TaskOutcome<O>;
  /** For `run` tasks: the prompt of an optional model-written narrative, when the caller asks for one. */
  narrativePrompt?(output: O): string;
  /** Plain-text rendering for clinicians and EMR notes. */
  render(output: O): string;
}

/** Shown with every task result. */
export const DECISION_SUPPORT_NOTICE =
  'Decision support only: generated and checked automatically, it must be reviewed by a qualified clinician before use in care.';

/** Input a task cannot work with (malformed HL7, unsupported image…): a 4xx naming the field, never its value. */
export class TaskInputError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly field: string;
  constructor(code: string, field: string, message: string, statusCode = 400) {
    super(message);
    this.name = 'TaskInputError';
    this.code = code;
    this.field = field;
    this.statusCode = statusCode;
  }
}
