import { type Dispatcher, Pool } from 'undici';
import {
  OllamaAbortError,
  OllamaBadRequestError,
  OllamaBusyError,
  OllamaError,
  OllamaErrorCode,
  type OllamaErrorOptions,
  OllamaInvalidResponseError,
  OllamaModelNotFoundError,
  OllamaServerError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
} from './errors.js';
import { NdjsonParseError, parseNdjson } from './ndjson.js';
import type {
  ChatRequest,
  ChatResponse,
  GenerateRequest,
  GenerateResponse,
  PsResponse,
  PullProgress,
  ShowResponse,
  TagsResponse,
  VersionResponse,
} from './types.js';

/**
 * Options of {@link OllamaClient}. All durations are milliseconds; `0` disables a timeout. undici
 * checks timeouts above one second with about one second of slack.
 */
export interface OllamaClientOptions {
  /** Where Ollama listens, e.g. `http://127.0.0.1:11434`. A path prefix (reverse proxy) is kept. */
  baseUrl: string;
  /** Limit for opening a TCP/TLS connection. Default 5 000. Ignored when `dispatcher` is given. */
  connectTimeoutMs?: number;
  /**
   * Limit for the response headers of generate/chat/pull. Covers model loading and prompt
   * evaluation, and for non-streamed generations the whole generation. Default 300 000.
   */
  headersTimeoutMs?: number;
  /** Longest gap between two pieces of a response body (e.g. two streamed tokens). Default 60 000. */
  bodyTimeoutMs?: number;
  /** Limit for the response headers of tags, ps, show, delete and version. Default 10 000. */
  metadataTimeoutMs?: number;
  /** Limit for the whole of {@link OllamaClient.ping}. Default 2 000. */
  pingTimeoutMs?: number;
  /** Most keep-alive connections kept open to the instance. Default 128. Ignored with `dispatcher`. */
  connections?: number;
  /** How long an idle connection stays open for reuse. Default 10 000. Ignored with `dispatcher`. */
  keepAliveTimeoutMs?: number;
  /**
   * undici dispatcher to send requests through instead of a pool of the client's own (e.g. a shared
   * `Agent`, or a `MockAgent` in tests). The client does not close it.
   */
  dispatcher?: Dispatcher;
  /** Extra headers sent with every request, e.g. `authorization` for a proxy in front of Ollama. */
  headers?: Record<string, string>;
}

/** Per-call options. Timeouts override the client's defaults for this call. */
export interface RequestOptions {
  /** Aborting closes the connection (so Ollama stops generating) and rejects with {@link OllamaAbortError}. */
  signal?: AbortSignal;
  /** Limit for the response headers of this call, in ms. */
  headersTimeoutMs?: number;
  /** Longest gap between two pieces of the response body of this call, in ms. */
  bodyTimeoutMs?: number;
}

/** Options of {@link OllamaClient.show}. */
export interface ShowOptions extends RequestOptions {
  /** Ask for the full (large) tokenizer metadata in `model_info`. */
  verbose?: boolean;
}

/** Options of {@link OllamaClient.pull}. */
export interface PullOptions extends RequestOptions {
  /** Called with every progress object Ollama streams, including the final `success`. */
  onProgress?: (progress: PullProgress) => void;
  /** Allow an insecure (non-TLS) registry. */
  insecure?: boolean;
}

/** Options of {@link OllamaClient.ping}. */
export interface PingOptions {
  /** Stops waiting; `ping` then resolves `false`. */
  signal?: AbortSignal;
  /** Limit for this ping, in ms. */
  timeoutMs?: number;
}

type Body = Dispatcher.ResponseData['body'];
type Method = 'GET' | 'POST' | 'DELETE';

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 300_000;
const DEFAULT_BODY_TIMEOUT_MS = 60_000;
const DEFAULT_METADATA_TIMEOUT_MS = 10_000;
const DEFAULT_PING_TIMEOUT_MS = 2_000;
const DEFAULT_CONNECTIONS = 128;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 10_000;
/** Bytes of an error body read to find Ollama's error text. */
const MAX_ERROR_BODY_BYTES = 4_096;

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

const INVALID_RESPONSE_CODES = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INFO',
]);

const NOT_FOUND_TEXT = /not found|does not exist/i;

const isGenerationFinal = (value: { done?: unknown }): boolean => value.done === true;
const isPullFinal = (value: { status?: unknown }): boolean => value.status === 'success';

/**
 * Typed client for one Ollama instance. Requests go through a keep-alive undici `Pool`
 * (128 connections by default). Every failure is an {@link OllamaError} subclass with a stable
 * `code`, the HTTP `status` when there was one, and `retryable`.
 */
export class OllamaClient {
  /** Base URL of the instance, without credentials or trailing slash. */
  readonly baseUrl: string;

  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #origin: string;
  readonly #headersTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  readonly #metadataTimeoutMs: number;
  readonly #pingTimeoutMs: number;
  readonly #jsonHeaders: Record<string, string>;
  readonly #getHeaders: Record<string, string>;
  readonly #paths: {
    generate: string;
    chat: string;
    tags: string;
    ps: string;
    show: string;
    pull: string;
    delete: string;
    version: string;
  };

  constructor(options: OllamaClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Ollama baseUrl must be http(s), got ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new TypeError('Ollama baseUrl must not contain credentials; pass them in the headers option');
    }
    const prefix = url.pathname.replace(/\/+$/, '');
    this.#origin = url.origin;
    this.baseUrl = url.origin + prefix;
    this.#headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.#bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.#metadataTimeoutMs = options.metadataTimeoutMs ?? DEFAULT_METADATA_TIMEOUT_MS;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.#jsonHeaders = {
      ...options.headers,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    this.#getHeaders = { ...options.headers, accept: 'application/json' };
    this.#paths = {
      generate: `${prefix}/api/generate`,
      chat: `${prefix}/api/chat`,
      tags: `${prefix}/api/tags`,
      ps: `${prefix}/api/ps`,
      show: `${prefix}/api/show`,
      pull: `${prefix}/api/pull`,
      delete: `${prefix}/api/delete`,
      version: `${prefix}/api/version`,
    };
    if (options.dispatcher) {
      this.#dispatcher = options.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      this.#dispatcher = new Pool(url.origin, {
        connections: options.connections ?? DEFAULT_CONNECTIONS,
        pipelining: 1,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        headersTimeout: this.#headersTimeoutMs,
        bodyTimeout: this.#bodyTimeoutMs,
      });
      this.#ownsDispatcher = true;
    }
  }

  /**
   * Generates a completion in one response (`POST /api/generate`, `stream: false`). The response
   * headers only arrive once generation is over, so `headersTimeoutMs` bounds the whole generation.
   */
  generate(request: GenerateRequest, options?: RequestOptions): Promise<GenerateResponse> {
    const payload = JSON.stringify({ ...request, stream: false });
    return this.#json<GenerateResponse>(
      'POST',
      this.#paths.generate,
      payload,
      options,
      this.#headersTimeoutMs,
    );
  }

  /**
   * Streams a completion (`POST /api/generate`, `stream: true`): yields each chunk as Ollama sends it,
   * the last one with `done: true` and the metrics. Breaking out of the loop or aborting closes the
   * connection, which makes Ollama stop generating.
   */
  generateStream(request: GenerateRequest, options?: RequestOptions): AsyncGenerator<GenerateResponse, void> {
    const payload = JSON.stringify({ ...request, stream: true });
    return this.#stream<GenerateResponse>(this.#paths.generate, payload, options, isGenerationFinal);
  }

  /** Answers a chat in one response (`POST /api/chat`, `stream: false`). See {@link generate} on timeouts. */
  chat(request: ChatRequest, options?: RequestOptions): Promise<ChatResponse> {
    const payload = JSON.stringify({ ...request, stream: false });
    return this.#json<ChatResponse>('POST', this.#paths.chat, payload, options, this.#headersTimeoutMs);
  }

  /** Streams a chat answer (`POST /api/chat`, `stream: true`). See {@link generateStream}. */
  chatStream(request: ChatRequest, options?: RequestOptions): AsyncGenerator<ChatResponse, void> {
    const payload = JSON.stringify({ ...request, stream: true });
    return this.#stream<ChatResponse>(this.#paths.chat, payload, options, isGenerationFinal);
  }

  /** Lists the models available on the instance (`GET /api/tags`). */
  tags(options?: RequestOptions): Promise<TagsResponse> {
    return this.#json<TagsResponse>('GET', this.#paths.tags, undefined, options, this.#metadataTimeoutMs);
  }

  /** Lists the models loaded in memory (`GET /api/ps`). */
  ps(options?: RequestOptions): Promise<PsResponse> {
    return this.#json<PsResponse>('GET', this.#paths.ps, undefined, options, this.#metadataTimeoutMs);
  }

  /** Describes a model: details, template, parameters, capabilities (`POST /api/show`). */
  show(model: string, options?: ShowOptions): Promise<ShowResponse> {
    const payload = JSON.stringify(options?.verbose ? { model, verbose: true } : { model });
    return this.#json<ShowResponse>('POST', this.#paths.show, payload, options, this.#metadataTimeoutMs);
  }

  /**
   * Downloads a model (`POST /api/pull`, streamed), reporting progress to `onProgress`. Resolves with
   * the final `success` object; rejects if Ollama reports an error or the stream ends without success.
   */
  async pull(model: string, options?: PullOptions): Promise<PullProgress> {
    const payload = JSON.stringify(
      options?.insecure ? { model, insecure: true, stream: true } : { model, stream: true },
    );
    const onProgress = options?.onProgress;
    let last: PullProgress | undefined;
    for await (const progress of this.#stream<PullProgress>(
      this.#paths.pull,
      payload,
      options,
      isPullFinal,
    )) {
      last = progress;
      onProgress?.(progress);
    }
    return last!;
  }

  /** Deletes a model and its data (`DELETE /api/delete`). Rejects with {@link OllamaModelNotFoundError} if absent. */
  async delete(model: string, options?: RequestOptions): Promise<void> {
    const payload = JSON.stringify({ model });
    await this.#json<void>('DELETE', this.#paths.delete, payload, options, this.#metadataTimeoutMs, false);
  }

  /** Returns the Ollama server version (`GET /api/version`). */
  version(options?: RequestOptions): Promise<VersionResponse> {
    return this.#json<VersionResponse>(
      'GET',
      this.#paths.version,
      undefined,
      options,
      this.#metadataTimeoutMs,
    );
  }

  /**
   * Health check: `true` when `GET /api/version` answers 2xx within `timeoutMs` (default
   * `pingTimeoutMs`). Never rejects; any failure, including an abort, gives `false`.
   */
  async ping(options?: PingOptions): Promise<boolean> {
    const timeout = options?.timeoutMs ?? this.#pingTimeoutMs;
    const signal = timeout > 0 ? anySignal(options?.signal, AbortSignal.timeout(timeout)) : options?.signal;
    try {
      const res = await this.#dispatcher.request({
        origin: this.#origin,
        path: this.#paths.version,
        method: 'GET',
        headers: this.#getHeaders,
        signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }

  /** Closes the client's own connection pool, letting running requests finish. A given `dispatcher` is left open. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #json<T>(
    method: Method,
    path: string,
    payload: string | undefined,
    options: RequestOptions | undefined,
    defaultHeadersTimeoutMs: number,
    parseBody = true,
  ): Promise<T> {
    const signal = options?.signal;
    const headersTimeout = options?.headersTimeoutMs ?? defaultHeadersTimeoutMs;
    const bodyTimeout = options?.bodyTimeoutMs ?? this.#bodyTimeoutMs;
    try {
      const res = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method,
        headers: payload === undefined ? this.#getHeaders : this.#jsonHeaders,
        body: payload,
        signal,
        headersTimeout,
        bodyTimeout,
      });
      const status = res.statusCode;
      if (status < 200 || status >= 300) throw await this.#errorFromResponse(status, res.body);
      if (!parseBody) {
        await res.body.dump();
        return undefined as T;
      }
      const value = (await res.body.json()) as { error?: unknown };
      if (typeof value !== 'object' || value === null) {
        throw new OllamaInvalidResponseError('body is not a JSON object', { status, instance: this.baseUrl });
      }
      if (typeof value.error === 'string') throw this.#errorFromText(value.error, status);
      return value as T;
    } catch (err) {
      throw this.#toOllamaError(err, signal, headersTimeout, bodyTimeout);
    }
  }

  async *#stream<T>(
    path: string,
    payload: string,
    options: RequestOptions | undefined,
    isFinal: (value: { done?: unknown; status?: unknown }) => boolean,
  ): AsyncGenerator<T, void> {
    const signal = options?.signal;
    const headersTimeout = options?.headersTimeoutMs ?? this.#headersTimeoutMs;
    const bodyTimeout = options?.bodyTimeoutMs ?? this.#bodyTimeoutMs;
    let body: Body | undefined;
    try {
      const res = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method: 'POST',
        headers: this.#jsonHeaders,
        body: payload,
        signal,
        headersTimeout,
        bodyTimeout,
      });
      const status = res.statusCode;
      body = res.body;
      if (status < 200 || status >= 300) throw await this.#errorFromResponse(status, body);

      let delivered = 0;
      // The final chunk is held back until the body has ended, so a consumer that stops at
      // `done: true` still leaves a reusable keep-alive connection behind.
      let final: T | undefined;
      for await (const value of parseNdjson(body)) {
        if (typeof value !== 'object' || value === null) {
          throw new OllamaInvalidResponseError('stream line is not a JSON object', {
            status,
            instance: this.baseUrl,
          });
        }
        const chunk = value as { error?: unknown; done?: unknown; status?: unknown };
        if (typeof chunk.error === 'string') throw this.#errorFromText(chunk.error, status, delivered);
        if (final !== undefined) {
          delivered++;
          yield final;
          final = undefined;
        }
        if (isFinal(chunk)) {
          final = value as T;
          continue;
        }
        delivered++;
        yield value as T;
      }
      if (final === undefined) {
        throw new OllamaInvalidResponseError('stream ended before the final chunk', {
          status,
          instance: this.baseUrl,
        });
      }
      yield final;
    } catch (err) {
      throw this.#toOllamaError(err, signal, headersTimeout, bodyTimeout);
    } finally {
      // Stopping early must drop the connection: it is the only way to make Ollama stop generating.
      if (body !== undefined && !body.destroyed) body.destroy();
    }
  }

  async #errorFromResponse(status: number, body: Body): Promise<OllamaError> {
    let size = 0;
    const parts: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
    const text = Buffer.concat(parts, size).toString('utf8', 0, Math.min(size, MAX_ERROR_BODY_BYTES));
    let ollamaText: string | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: unknown } | null;
      if (typeof parsed?.error === 'string') ollamaText = parsed.error;
    } catch {
      // Not Ollama's JSON error body (e.g. a proxy page); classified by status alone.
    }
    const options: OllamaErrorOptions = {
      status,
      ollamaMessage: ollamaText ?? (text.trim() === '' ? undefined : text),
      instance: this.baseUrl,
    };
    if (status === 503 || status === 429) return new OllamaBusyError(options);
    if (status >= 500) return new OllamaServerError(options);
    if (status >= 400) {
      // A 404 without Ollama's JSON body is a wrong URL (e.g. "404 page not found"), not a missing model.
      const notFound = ollamaText !== undefined && (status === 404 || NOT_FOUND_TEXT.test(ollamaText));
      return notFound ? new OllamaModelNotFoundError(options) : new OllamaBadRequestError(options);
    }
    return new OllamaInvalidResponseError('unexpected status', { status, instance: this.baseUrl });
  }

  /** An `{"error": …}` object in a 2xx body: Ollama failed after it had sent its status. */
  #errorFromText(text: string, status: number, delivered = 0): OllamaError {
    const options: OllamaErrorOptions = { status, ollamaMessage: text, instance: this.baseUrl };
    if (NOT_FOUND_TEXT.test(text)) return new OllamaModelNotFoundError(options);
    return new OllamaStreamError(delivered, options);
  }

  #toOllamaError(
    err: unknown,
    signal: AbortSignal | undefined,
    headersTimeout: number,
    bodyTimeout: number,
  ): OllamaError {
    if (err instanceof OllamaError) return err;
    const instance = this.baseUrl;
    if (signal?.aborted) return new OllamaAbortError({ instance, cause: signal.reason });
    // Parse errors are rebuilt without a cause: V8's JSON messages quote the offending text.
    if (err instanceof NdjsonParseError) return new OllamaInvalidResponseError(err.message, { instance });
    if (err instanceof SyntaxError)
      return new OllamaInvalidResponseError('body is not valid JSON', { instance });
    const code = errorCode(err);
    const options: OllamaErrorOptions = { instance, cause: err };
    switch (code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new OllamaTimeoutError('headers', headersTimeout, options);
      case 'UND_ERR_BODY_TIMEOUT':
        return new OllamaTimeoutError('body', bodyTimeout, options);
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new OllamaUnreachableError('connect timeout', options);
      case 'UND_ERR_ABORTED':
        return new OllamaAbortError(options);
    }
    if (code !== undefined) {
      if (NETWORK_ERROR_CODES.has(code) || (err as { syscall?: unknown }).syscall !== undefined) {
        const message = err instanceof Error && err.message ? err.message : code;
        return new OllamaUnreachableError(message, options);
      }
      if (INVALID_RESPONSE_CODES.has(code) || code.startsWith('HPE_')) {
        return new OllamaInvalidResponseError(`malformed HTTP response (${code})`, { instance });
      }
    }
    return new OllamaError(OllamaErrorCode.RequestFailed, 'Ollama request failed', false, options);
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connection attempts fail with an AggregateError of per-address errors.
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return undefined;
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a === undefined ? b : AbortSignal.any([a, b]);
}
