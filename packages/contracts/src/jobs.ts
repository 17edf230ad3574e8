import type { Priority } from './http.js';
import type { Actor } from './roles.js';

/**
 * What a gateway puts on a model queue. Everything a patient could be identified by
 * (prompt, system prompt, image, output format) travels only inside `sealed`.
 */
export interface ProcessJobData {
  v: 1;
  requestId: string;
  actor: Actor;
  model: string;
  priority: Priority;
  /** Epoch milliseconds; a job not finished by then is dropped. */
  deadline: number;
  /** Epoch milliseconds when the gateway accepted the request. */
  acceptedAt: number;
  /** Pub/sub channel of the gateway waiting for the answer, or null for async jobs. */
  replyTo: string | null;
  /** Whether the waiting gateway wants tokens as they are produced. */
  stream: boolean;
  /** Sealed {@link ProcessPayload}. */
  sealed: string;
  /** The clinical task this job runs, when it came from `/api/tasks/<task>` (a task id, not patient data). */
  task?: string;
}

/** The plaintext inside {@link ProcessJobData.sealed}. */
export interface ProcessPayload {
  prompt: string;
  system?: string;
  images?: string[];
  options?: Record<string, unknown>;
  format?: 'json' | Record<string, unknown>;
  /** For task jobs: the task's validated input and prepared context, for checking the answer later. */
  task?: { input: unknown; context?: unknown };
}

/** What a worker returns to BullMQ: the result, sealed. */
export interface ProcessJobResult {
  sealed: string;
}

/** The plaintext inside {@link ProcessJobResult.sealed} and a `done` reply. */
export interface ProcessOutcome {
  response: string;
  instance: string;
  doneReason?: string;
  promptTokens: number;
  completionTokens: number;
  loadMs: number;
  promptEvalMs: number;
  generationMs: number;
  /** Epoch ms the worker started the job. */
  startedAt: number;
  finishedAt: number;
}

/**
 * A message on a gateway's reply channel. Compact because it is on the hot path:
 * `j` job id, `t` kind (`s` started, `c` chunk, `d` done, `e` error), `p` sealed payload
 * (chunk text or {@link ProcessOutcome}), `e` error code and message (never patient data).
 */
export type ReplyMessage =
  | { j: string; t: 's'; i: string; at: number }
  | { j: string; t: 'c'; p: string }
  | { j: string; t: 'd'; p: string }
  | { j: string; t: 'e'; c: string; m: string; retryable?: boolean };

/** What a worker publishes about itself, with a TTL, so gateways know who is alive. */
export interface InstanceHeartbeat {
  id: string;
  url: string;
  healthy: boolean;
  models: string[];
  installed: string[];
  loaded: string[];
  vision: string[];
  inFlight: number;
  numParallel: number;
  lastError?: string;
  ollamaVersion?: string;
  /** Recent mean time a job of each model took on the instance, in ms (gateways' Retry-After). */
  serviceMs?: Record<string, number>;
  startedAt: number;
  updatedAt: number;
}

/** What a client hears of a job BullMQ failed because its workers stopped while running it too often. */
export const LOST_JOB_MESSAGE = 'the job was lost by the workers running it';

/** Error codes a worker reports for a failed job. Stable: clients and docs rely on them. */
export const JOB_ERROR_CODES = {
  deadline: 'WARD_JOB_DEADLINE_EXCEEDED',
  cancelled: 'WARD_JOB_CANCELLED',
  modelNotFound: 'WARD_MODEL_NOT_FOUND',
  badRequest: 'WARD_UPSTREAM_BAD_REQUEST',
  unavailable: 'WARD_UPSTREAM_UNAVAILABLE',
  busy: 'WARD_UPSTREAM_BUSY',
  upstream: 'WARD_UPSTREAM_ERROR',
  internal: 'WARD_INTERNAL',
} as const;
