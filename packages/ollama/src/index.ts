export {
  OllamaClient,
  type OllamaClientOptions,
  type PingOptions,
  type PullOptions,
  type RequestOptions,
  type ShowOptions,
} from './client.js';
export {
  MAX_OLLAMA_MESSAGE_LENGTH,
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
  type OllamaTimeoutPhase,
  OllamaUnreachableError,
  truncateOllamaMessage,
} from './errors.js';
export { NdjsonParseError, parseNdjson } from './ndjson.js';
export type * from './types.js';
