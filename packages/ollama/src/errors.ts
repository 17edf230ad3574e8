/**
 * Typed errors of the Ollama client. Messages carry only the HTTP status and Ollama's own error
 * text (truncated) — never request or response content, which may hold patient data.
 */

/** Longest piece of Ollama's error text kept in errors. */
export const MAX_OLLAMA_MESSAGE_LENGTH = 200;

/** Stable error codes, one per error class. */
export const OllamaErrorCode = {
  RequestFailed: 'WARD_OLLAMA_REQUEST_FAILED',
  ModelNotFound: 'WARD_OLLAMA_MODEL_NOT_FOUND',
  Busy: 'WARD_OLLAMA_BUSY',
  BadRequest: 'WARD_OLLAMA_BAD_REQUEST',
  ServerError: 'WARD_OLLAMA_SERVER_ERROR',
  StreamError: 'WARD_OLLAMA_STREAM_ERROR',
  InvalidResponse: 'WARD_OLLAMA_INVALID_RESPONSE',
  Unreachable: 'WARD_OLLAMA_UNREACHABLE',
  Timeout: 'WARD_OLLAMA_TIMEOUT',
  Aborted: 'WARD_OLLAMA_ABORTED',
} as const;

/** One of {@link OllamaErrorCode}'s values. */
export type OllamaErrorCode = (typeof OllamaErrorCode)[keyof typeof OllamaErrorCode];

/** Fields every Ollama error may be built with. */
export interface OllamaErrorOptions {
  /** HTTP status Ollama answered with; absent when no response arrived. */
  status?: number;
  /** Ollama's error text; truncated to {@link MAX_OLLAMA_MESSAGE_LENGTH} characters. */
  ollamaMessage?: string;
  /** Base URL of the instance (without credentials). */
  instance?: string;
  /** Underlying error (network or undici error; never one that quotes content). */
  cause?: unknown;
}

/** Collapses whitespace and cuts Ollama's error text to {@link MAX_OLLAMA_MESSAGE_LENGTH} characters. */
export function truncateOllamaMessage(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_OLLAMA_MESSAGE_LENGTH ? `${flat.slice(0, MAX_OLLAMA_MESSAGE_LENGTH)}…` : flat;
}

/** Base class of every error the client throws. */
export class OllamaError extends Error {
  /** Stable machine-readable code. */
  readonly code: OllamaErrorCode;
  /** Whether the same request may succeed on another (or the same, later) Ollama instance. */
  readonly retryable: boolean;
  /** HTTP status Ollama answered with; `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** Ollama's error text, truncated; `undefined` when Ollama sent none. */
  readonly ollamaMessage: string | undefined;
  /** Base URL of the instance that failed (without credentials). */
  readonly instance: string | undefined;

  constructor(code: OllamaErrorCode, message: string, retryable: boolean, options: OllamaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.status = options.status;
    this.ollamaMessage =
      options.ollamaMessage === undefined ? undefined : truncateOllamaMessage(options.ollamaMessage);
    this.instance = options.instance;
  }
}

function describe(label: string, options: OllamaErrorOptions): string {
  const status = options.status === undefined ? '' : ` (${options.status})`;
  const text = options.ollamaMessage ? `: ${truncateOllamaMessage(options.ollamaMessage)}` : '';
  return `${label}${status}${text}`;
}

/** The model does not exist on the instance (HTTP 404, or Ollama's "not found" text). Not retryable. */
export class OllamaModelNotFoundError extends OllamaError {
  constructor(options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.ModelNotFound, describe('Ollama model not found', options), false, options);
  }
}

/** The instance refuses work for now (HTTP 503 "server busy", or 429). Retryable. */
export class OllamaBusyError extends OllamaError {
  constructor(options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.Busy, describe('Ollama busy', options), true, options);
  }
}

/** Ollama rejected the request (HTTP 400 and other 4xx). Not retryable. */
export class OllamaBadRequestError extends OllamaError {
  constructor(options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.BadRequest, describe('Ollama rejected the request', options), false, options);
  }
}

/** Ollama failed (HTTP 5xx other than 503). Retryable. */
export class OllamaServerError extends OllamaError {
  constructor(options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.ServerError, describe('Ollama server error', options), true, options);
  }
}

/**
 * Ollama reported an `{"error": …}` line in the middle of a streamed response (the HTTP status was
 * already 2xx). Retryable only when no chunk had been delivered yet, since a retry would repeat output.
 */
export class OllamaStreamError extends OllamaError {
  /** Number of chunks delivered before the error line. */
  readonly chunksReceived: number;

  constructor(chunksReceived: number, options: OllamaErrorOptions = {}) {
    super(
      OllamaErrorCode.StreamError,
      describe('Ollama failed mid-stream', options),
      chunksReceived === 0,
      options,
    );
    this.chunksReceived = chunksReceived;
  }
}

/** The response could not be understood (invalid JSON, unexpected status, truncated stream). Retryable. */
export class OllamaInvalidResponseError extends OllamaError {
  constructor(reason: string, options: OllamaErrorOptions = {}) {
    super(
      OllamaErrorCode.InvalidResponse,
      describe('Ollama sent an invalid response', { status: options.status, ollamaMessage: reason }),
      true,
      options,
    );
  }
}

/**
 * The instance could not be reached or dropped the connection (ECONNREFUSED, ENOTFOUND, socket errors,
 * connect timeout). Retryable.
 */
export class OllamaUnreachableError extends OllamaError {
  constructor(reason: string, options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.Unreachable, `Ollama unreachable: ${reason}`, true, options);
  }
}

/** Which wait timed out. */
export type OllamaTimeoutPhase = 'headers' | 'body';

/**
 * Ollama took too long: `headers` — no response headers in time (for non-streamed generations
 * that is the whole generation); `body` — too long between two chunks of the body. Retryable.
 */
export class OllamaTimeoutError extends OllamaError {
  /** Which wait timed out. */
  readonly phase: OllamaTimeoutPhase;
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number | undefined;

  constructor(phase: OllamaTimeoutPhase, timeoutMs: number | undefined, options: OllamaErrorOptions = {}) {
    const limit = timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
    const what = phase === 'headers' ? 'no response headers' : 'no response data';
    super(OllamaErrorCode.Timeout, `Ollama timed out: ${what}${limit}`, true, options);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller aborted the request through its `AbortSignal`; the connection was closed. Not retryable. */
export class OllamaAbortError extends OllamaError {
  constructor(options: OllamaErrorOptions = {}) {
    super(OllamaErrorCode.Aborted, 'Ollama request aborted', false, options);
  }
}
