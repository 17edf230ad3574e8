import type { FastifyReply } from 'fastify';
import type { SimEngine } from './engine.js';

/** An error answered as Ollama does: the status and `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** Set when a script rule forced the error. */
    readonly scripted = false,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The body Ollama sends when its wait queue is full (note the two spaces). */
export const QUEUE_FULL_MESSAGE = 'server busy, please try again.  maximum pending requests exceeded';

/** Sends a JSON body with a status, counting the status. */
export function sendJson(
  engine: SimEngine,
  reply: FastifyReply,
  status: number,
  body: unknown,
): FastifyReply {
  engine.store.status(status);
  return reply.code(status).send(body);
}

type Json = Record<string, unknown>;

const goKind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;

function typeError(goType: string, field: string, value: unknown, expected: string): HttpError {
  return new HttpError(
    400,
    `json: cannot unmarshal ${goKind(value)} into Go struct field ${goType}.${field} of type ${expected}`,
  );
}

/** The parsed body as an object, or 400 the way Ollama words it. */
export function requireBody(body: unknown, goType: string): Json {
  if (body === undefined || body === null || body === '') throw new HttpError(400, 'missing request body');
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, `json: cannot unmarshal ${goKind(body)} into Go value of type api.${goType}`);
  }
  return body as Json;
}

export function optString(body: Json, field: string, goType: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(goType, field, v, 'string');
  return v;
}

export function optBool(body: Json, field: string, goType: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw typeError(goType, field, v, 'bool');
  return v;
}

export function optObject(body: Json, field: string, goType: string): Json | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(goType, field, v, `map[string]interface {}`);
  return v as Json;
}

/** A list of base64 images; checks the encoding as Go's decoder would. */
export function optImages(body: Json, field: string, goType: string): string[] {
  const v = body[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw typeError(goType, field, v, 'api.ImageData');
  for (const image of v) {
    if (typeof image !== 'string') throw typeError(goType, field, image, 'api.ImageData');
    const bad = /[^A-Za-z0-9+/=]/.exec(image);
    if (bad) throw new HttpError(400, `illegal base64 data at input byte ${bad.index}`);
    if (image.length % 4 !== 0)
      throw new HttpError(400, `illegal base64 data at input byte ${image.length - (image.length % 4)}`);
  }
  return v as string[];
}

/**
 * Writes an NDJSON response. Lines written before {@link goLive} are buffered so a reply computed
 * at once goes out in one piece; after it, the first line sends the headers (as Ollama does: no
 * headers until the first chunk) and each line is written as it comes.
 */
export class NdjsonResponse {
  #buffer = '';
  #live = false;
  #started = false;

  constructor(
    private readonly engine: SimEngine,
    private readonly reply: FastifyReply,
  ) {}

  get started(): boolean {
    return this.#started;
  }

  write(text: string): void {
    if (!this.#live) {
      this.#buffer += text;
      return;
    }
    this.#start();
    this.reply.raw.write(text);
  }

  goLive(): void {
    this.#live = true;
    if (this.#buffer !== '') {
      const text = this.#buffer;
      this.#buffer = '';
      this.write(text);
    }
  }

  end(text: string): void {
    if (!this.#live) {
      this.engine.store.status(200);
      this.reply
        .code(200)
        .type('application/x-ndjson')
        .send(this.#buffer + text);
      this.#buffer = '';
      return;
    }
    this.#start();
    this.reply.raw.end(text);
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.engine.store.status(200);
    this.reply.hijack();
    this.reply.raw.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  }
}

/** Tracks whether the client went away before the answer was complete. */
export class ClientWatch {
  gone = false;
  #onGone: (() => void) | undefined;

  constructor(reply: FastifyReply) {
    const raw = reply.raw;
    raw.once('close', () => {
      if (raw.writableFinished) return;
      this.gone = true;
      this.#onGone?.();
    });
  }

  onGone(fn: () => void): void {
    this.#onGone = fn;
  }
}

/** Waits wall-clock milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
