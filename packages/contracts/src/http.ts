import { type Static, Type } from 'typebox';
import { MODEL_NAME_PATTERN } from './model-name.js';

/** The error body every Ward app answers with. `field` names the offending input where there is one. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable error code, e.g. WARD_VALIDATION' }),
    error: Type.String({ description: 'HTTP status text' }),
    message: Type.String(),
    field: Type.Optional(
      Type.String({ description: 'The request field at fault, as a JSON pointer-like path' }),
    ),
    requestId: Type.Optional(Type.String()),
  },
  {},
);
export type ErrorBody = Static<typeof ErrorBody>;

export const PRIORITIES = ['stat', 'routine', 'batch'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Generation options passed to Ollama. Only documented options with sane ranges are accepted. */
export const GenerationOptions = Type.Object(
  {
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    min_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    num_predict: Type.Optional(Type.Integer({ minimum: -2, maximum: 32768 })),
    num_ctx: Type.Optional(Type.Integer({ minimum: 256, maximum: 262144 })),
    seed: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647 })),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 8 })),
    repeat_penalty: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    repeat_last_n: Type.Optional(Type.Integer({ minimum: -1, maximum: 32768 })),
    presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  },
  { additionalProperties: false },
);
export type GenerationOptions = Static<typeof GenerationOptions>;

/** `POST /api/local/process` — the deployment guide's request, plus Ward's optional fields. */
export const ProcessRequest = Type.Object(
  {
    modelName: Type.String({
      pattern: MODEL_NAME_PATTERN,
      maxLength: 200,
      description: 'An Ollama model name, e.g. mistral:7b',
    }),
    prompt: Type.String({ minLength: 1, maxLength: 200_000 }),
    type: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('vision')], { default: 'text' })),
    imageData: Type.Optional(
      Type.String({
        minLength: 4,
        description: 'Base64 PNG or JPEG (a data: URL prefix is accepted); required for type vision',
      }),
    ),
    options: Type.Optional(GenerationOptions),
    system: Type.Optional(Type.String({ maxLength: 50_000 })),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Record(Type.String(), Type.Unknown())], {
        description: '"json" or a JSON schema the output must follow (Ollama structured outputs)',
      }),
    ),
    stream: Type.Optional(Type.Boolean({ default: false })),
    priority: Type.Optional(
      Type.Union(
        PRIORITIES.map((p) => Type.Literal(p)),
        { default: 'routine' },
      ),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        description: 'Deadline for the whole job; defaults to JOB_TIMEOUT_SECONDS',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ProcessRequest = Static<typeof ProcessRequest>;

export const Usage = Type.Object({
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
});

/** Where the time went, in milliseconds. */
export const Timings = Type.Object({
  queueMs: Type.Number({ description: 'Waiting in the model queue before a worker took the job' }),
  loadMs: Type.Number({ description: 'Ollama loading the model (load_duration)' }),
  promptEvalMs: Type.Number(),
  generationMs: Type.Number({ description: 'Ollama generating tokens (eval_duration)' }),
  totalMs: Type.Number({ description: 'From the gateway accepting the request to the result' }),
});

/** The model's answer plus where and how it was produced. */
export const ProcessResult = Type.Object(
  {
    id: Type.String(),
    model: Type.String(),
    instance: Type.String({ description: 'The Ollama instance that served the job' }),
    response: Type.String(),
    doneReason: Type.Optional(Type.String()),
    usage: Usage,
    timings: Timings,
    createdAt: Type.String({ format: 'date-time' }),
  },
  {},
);
export type ProcessResult = Static<typeof ProcessResult>;

export const JOB_STATES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** `202 Accepted` body for `Prefer: respond-async`. */
export const JobAccepted = Type.Object(
  {
    id: Type.String(),
    state: Type.Literal('queued'),
    model: Type.String(),
    location: Type.String(),
  },
  {},
);
export type JobAccepted = Static<typeof JobAccepted>;

/** `GET /api/jobs/:id`. */
export const JobView = Type.Object(
  {
    id: Type.String(),
    model: Type.String(),
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('active'),
      Type.Literal('completed'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ]),
    priority: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    deadline: Type.String({ format: 'date-time' }),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
    result: Type.Optional(ProcessResult),
    taskResult: Type.Optional(Type.Unknown({ description: 'For task jobs: the checked task result' })),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  {},
);
export type JobView = Static<typeof JobView>;

/** One NDJSON line of a streamed answer. The last line has `done: true` and the full metadata, or an `error`. */
export interface StreamLine {
  id: string;
  model: string;
  response?: string;
  done: boolean;
  instance?: string;
  doneReason?: string;
  usage?: { promptTokens: number; completionTokens: number };
  timings?: ProcessResult['timings'];
  error?: { code: string; message: string };
}

export const InstanceStatus = Type.Object({
  id: Type.String(),
  url: Type.String(),
  healthy: Type.Boolean(),
  models: Type.Array(Type.String(), { description: 'Models this instance serves' }),
  installed: Type.Array(Type.String()),
  loaded: Type.Array(Type.String()),
  inFlight: Type.Integer(),
  numParallel: Type.Integer(),
  lastError: Type.Optional(Type.String()),
  ollamaVersion: Type.Optional(Type.String()),
  lastSeen: Type.String({ format: 'date-time' }),
});
export type InstanceStatus = Static<typeof InstanceStatus>;

/** `GET /api/local/status`. */
export const StatusResponse = Type.Object(
  {
    ready: Type.Boolean(),
    localModelsEnabled: Type.Boolean(),
    hipaaMode: Type.Boolean(),
    instances: Type.Array(InstanceStatus),
    queues: Type.Array(
      Type.Object({
        model: Type.String(),
        waiting: Type.Integer(),
        active: Type.Integer(),
        capacity: Type.Integer(),
      }),
    ),
  },
  {},
);
export type StatusResponse = Static<typeof StatusResponse>;

/** `GET /api/local/models`. */
export const ModelsResponse = Type.Object(
  {
    models: Type.Array(
      Type.Object({
        name: Type.String(),
        vision: Type.Boolean(),
        instances: Type.Array(Type.String()),
        loadedOn: Type.Array(Type.String()),
      }),
    ),
  },
  {},
);
export type ModelsResponse = Static<typeof ModelsResponse>;

/** A finding of a task's deterministic checks. */
export const TaskFinding = Type.Object({
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
  code: Type.String(),
  message: Type.String(),
  path: Type.Optional(Type.String()),
});

/** The result of `POST /api/tasks/<task>`: checked output, findings, and where it came from. */
export const TaskResult = Type.Object({
  id: Type.String(),
  task: Type.String(),
  model: Type.Union([Type.String(), Type.Null()], { description: 'null for tasks that need no model' }),
  instance: Type.Union([Type.String(), Type.Null()]),
  output: Type.Unknown(),
  findings: Type.Array(TaskFinding),
  valid: Type.Boolean({ description: 'false when any finding is an error' }),
  rendering: Type.String({ description: 'Plain-text rendering for clinicians' }),
  notice: Type.String({ description: 'Decision-support statement' }),
  narrative: Type.Optional(
    Type.Object(
      { text: Type.String(), model: Type.String(), instance: Type.String() },
      { description: 'Model-written summary, when asked for' },
    ),
  ),
  usage: Type.Optional(Usage),
  timings: Type.Optional(Timings),
  createdAt: Type.String({ format: 'date-time' }),
});
export type TaskResult = Static<typeof TaskResult>;

/** Fields every `/api/tasks/<task>` body may carry besides the task's own input. */
export const TaskRequestOptions = {
  modelName: Type.Optional(
    Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 200, description: "Overrides the task's model" }),
  ),
  stream: Type.Optional(Type.Boolean()),
  priority: Type.Optional(Type.Union([Type.Literal('stat'), Type.Literal('routine'), Type.Literal('batch')])),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
};
