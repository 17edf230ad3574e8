import { describe, expect, it } from 'vitest';
import {
  MAX_OLLAMA_MESSAGE_LENGTH,
  OllamaAbortError,
  OllamaBadRequestError,
  OllamaBusyError,
  OllamaError,
  OllamaInvalidResponseError,
  OllamaModelNotFoundError,
  OllamaServerError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
} from '../src/index.js';

describe('Ollama errors', () => {
  it('give every class a stable code, retryable flag and status', () => {
    const cases: Array<[OllamaError, string, boolean, number | undefined]> = [
      [new OllamaModelNotFoundError({ status: 404 }), 'WARD_OLLAMA_MODEL_NOT_FOUND', false, 404],
      [new OllamaBusyError({ status: 503 }), 'WARD_OLLAMA_BUSY', true, 503],
      [new OllamaBadRequestError({ status: 400 }), 'WARD_OLLAMA_BAD_REQUEST', false, 400],
      [new OllamaServerError({ status: 500 }), 'WARD_OLLAMA_SERVER_ERROR', true, 500],
      [new OllamaStreamError(0, { status: 200 }), 'WARD_OLLAMA_STREAM_ERROR', true, 200],
      [new OllamaStreamError(3, { status: 200 }), 'WARD_OLLAMA_STREAM_ERROR', false, 200],
      [new OllamaInvalidResponseError('x'), 'WARD_OLLAMA_INVALID_RESPONSE', true, undefined],
      [new OllamaUnreachableError('ECONNREFUSED'), 'WARD_OLLAMA_UNREACHABLE', true, undefined],
      [new OllamaTimeoutError('headers', 10), 'WARD_OLLAMA_TIMEOUT', true, undefined],
      [new OllamaAbortError(), 'WARD_OLLAMA_ABORTED', false, undefined],
    ];
    for (const [error, code, retryable, status] of cases) {
      expect(error).toBeInstanceOf(OllamaError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect({ code: error.code, retryable: error.retryable, status: error.status }).toEqual({
        code,
        retryable,
        status,
      });
    }
  });

  it('truncates Ollama error text to 200 characters in the message and ollamaMessage', () => {
    const error = new OllamaBadRequestError({ status: 400, ollamaMessage: `bad ${'x'.repeat(500)}` });
    expect(error.ollamaMessage).toHaveLength(MAX_OLLAMA_MESSAGE_LENGTH + 1);
    expect(error.message.length).toBeLessThan(260);
    expect(error.message).toMatch(/^Ollama rejected the request \(400\): bad x+…$/);
  });
});
