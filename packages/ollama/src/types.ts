/**
 * Request and response shapes of Ollama's REST API. Field names are Ollama's own (snake_case);
 * all durations Ollama reports are in nanoseconds.
 */

/** A JSON Schema object, as accepted by `format` for structured outputs. */
export type JsonSchema = { [key: string]: unknown };

/** `"json"` for JSON mode, or a JSON Schema the output must match. */
export type ResponseFormat = 'json' | JsonSchema;

/**
 * How long the model stays loaded after the request: a duration string (`"5m"`, `"1h"`),
 * a number of seconds, `0` to unload at once, or a negative value to keep it loaded forever.
 */
export type KeepAlive = string | number;

/** Reasoning control for thinking models: on/off, or an effort level for models that support one. */
export type Think = boolean | 'low' | 'medium' | 'high';

/** Runtime model parameters (the Modelfile `PARAMETER`s). Omitted fields keep the model's defaults. */
export interface ModelOptions {
  /** Context window size in tokens. */
  num_ctx?: number;
  /** Maximum number of tokens to generate; `-1` for no limit. */
  num_predict?: number;
  /** Number of prompt tokens to keep when the context is shifted. */
  num_keep?: number;
  /** Sampling temperature; higher is more creative. */
  temperature?: number;
  /** Nucleus sampling threshold. */
  top_p?: number;
  /** Sample only from the k most likely tokens. */
  top_k?: number;
  /** Minimum probability of a token relative to the most likely one. */
  min_p?: number;
  /** Locally typical sampling parameter. */
  typical_p?: number;
  /** Random seed; set it for reproducible outputs. */
  seed?: number;
  /** Sequences that stop generation when produced. */
  stop?: string[];
  /** Penalty applied to repeated tokens. */
  repeat_penalty?: number;
  /** How far back (in tokens) the repeat penalty looks; `-1` for the whole context. */
  repeat_last_n?: number;
  /** Penalty for tokens already present in the output. */
  presence_penalty?: number;
  /** Penalty proportional to how often a token already occurred. */
  frequency_penalty?: number;
  /** Mirostat sampling mode (0 off, 1 or 2). */
  mirostat?: number;
  /** Mirostat target entropy. */
  mirostat_tau?: number;
  /** Mirostat learning rate. */
  mirostat_eta?: number;
  /** Whether newlines are penalised by the repeat penalty. */
  penalize_newline?: boolean;
  /** Prompt processing batch size. */
  num_batch?: number;
  /** Number of layers offloaded to the GPU(s). */
  num_gpu?: number;
  /** GPU that holds small tensors when several are used. */
  main_gpu?: number;
  /** Number of CPU threads used for generation. */
  num_thread?: number;
  /** Enable NUMA support. */
  numa?: boolean;
  /** Reduce VRAM use at some speed cost. */
  low_vram?: boolean;
  /** Load only the vocabulary, not the weights. */
  vocab_only?: boolean;
  /** Memory-map the model file. */
  use_mmap?: boolean;
  /** Lock the model in RAM. */
  use_mlock?: boolean;
}

/** Timing and token counts Ollama adds to the final response of a generation (durations in ns). */
export interface GenerationMetrics {
  /** Time spent on the whole request, in nanoseconds. */
  total_duration?: number;
  /** Time spent loading the model, in nanoseconds. */
  load_duration?: number;
  /** Number of tokens in the prompt. */
  prompt_eval_count?: number;
  /** Time spent evaluating the prompt, in nanoseconds. */
  prompt_eval_duration?: number;
  /** Number of tokens generated. */
  eval_count?: number;
  /** Time spent generating, in nanoseconds. */
  eval_duration?: number;
}

/** Why generation stopped: `stop`, `length`, `load`, `unload`, or a reason newer Ollama versions add. */
export type DoneReason = 'stop' | 'length' | 'load' | 'unload' | (string & {});

/** Body of `POST /api/generate`. `stream` is set by the client method you call. */
export interface GenerateRequest {
  /** Model name, `model:tag` (tag defaults to `latest`). */
  model: string;
  /** Prompt to complete; omit (with no other input) to only load the model. */
  prompt?: string;
  /** Text after the model response (fill-in-the-middle). */
  suffix?: string;
  /** Base64-encoded images for multimodal models. */
  images?: string[];
  /** `"json"` or a JSON Schema for structured output. */
  format?: ResponseFormat;
  /** Runtime model parameters. */
  options?: ModelOptions;
  /** System message; overrides the Modelfile's. */
  system?: string;
  /** Prompt template; overrides the Modelfile's. */
  template?: string;
  /** Send the prompt without applying the template. */
  raw?: boolean;
  /** How long the model stays loaded afterwards. */
  keep_alive?: KeepAlive;
  /** @deprecated Context returned by a previous generate call, for short conversational memory. */
  context?: number[];
  /** Enable reasoning output on thinking models. */
  think?: Think;
}

/** A response (or one streamed chunk) of `POST /api/generate`. */
export interface GenerateResponse extends GenerationMetrics {
  /** Model that produced the response. */
  model: string;
  /** RFC 3339 timestamp of this chunk. */
  created_at: string;
  /** Generated text: the whole text when not streamed, one fragment per chunk when streamed. */
  response: string;
  /** Reasoning text of thinking models. */
  thinking?: string;
  /** `true` on the final response. */
  done: boolean;
  /** Why generation stopped (final response only). */
  done_reason?: DoneReason;
  /** Encoded conversation, to pass back as `context` (final response only). */
  context?: number[];
}

/** Chat message author. */
export type Role = 'system' | 'user' | 'assistant' | 'tool';

/** A function call the model asks for. */
export interface ToolCall {
  function: {
    /** Position of the call when the model makes several. */
    index?: number;
    /** Name of the tool to call. */
    name: string;
    /** Arguments as a JSON object (not a string, unlike OpenAI). */
    arguments: { [key: string]: unknown };
  };
}

/** A tool the model may call. */
export interface Tool {
  type: 'function';
  function: {
    /** Tool name the model refers to. */
    name: string;
    /** What the tool does, for the model. */
    description?: string;
    /** JSON Schema of the arguments. */
    parameters?: JsonSchema;
  };
}

/** One message of a chat. */
export interface Message {
  /** Who wrote the message. */
  role: Role;
  /** Text of the message. */
  content: string;
  /** Reasoning text of thinking models (assistant messages). */
  thinking?: string;
  /** Base64-encoded images for multimodal models. */
  images?: string[] | null;
  /** Tool calls the assistant asked for. */
  tool_calls?: ToolCall[];
  /** Name of the tool whose result a `tool` message carries. */
  tool_name?: string;
}

/** Body of `POST /api/chat`. `stream` is set by the client method you call. */
export interface ChatRequest {
  /** Model name, `model:tag`. */
  model: string;
  /** Conversation so far; empty to only load the model. */
  messages: Message[];
  /** Tools the model may call. */
  tools?: Tool[];
  /** `"json"` or a JSON Schema for structured output. */
  format?: ResponseFormat;
  /** Runtime model parameters. */
  options?: ModelOptions;
  /** How long the model stays loaded afterwards. */
  keep_alive?: KeepAlive;
  /** Enable reasoning output on thinking models. */
  think?: Think;
}

/** A response (or one streamed chunk) of `POST /api/chat`. */
export interface ChatResponse extends GenerationMetrics {
  /** Model that produced the response. */
  model: string;
  /** RFC 3339 timestamp of this chunk. */
  created_at: string;
  /** The assistant message, or its next fragment when streamed. */
  message: Message;
  /** `true` on the final response. */
  done: boolean;
  /** Why generation stopped (final response only). */
  done_reason?: DoneReason;
}

/** Format, family and size of a model. */
export interface ModelDetails {
  parent_model?: string;
  /** File format, e.g. `gguf`. */
  format: string;
  /** Model family, e.g. `llama`. */
  family: string;
  families: string[] | null;
  /** Human-readable parameter count, e.g. `8.0B`. */
  parameter_size: string;
  /** Quantization, e.g. `Q4_K_M`. */
  quantization_level: string;
}

/** A locally available model, from `GET /api/tags`. */
export interface ModelSummary {
  name: string;
  model: string;
  /** RFC 3339 timestamp. */
  modified_at: string;
  /** Size on disk in bytes. */
  size: number;
  digest: string;
  details: ModelDetails;
}

/** Body of `GET /api/tags`. */
export interface TagsResponse {
  models: ModelSummary[];
}

/** A model loaded in memory, from `GET /api/ps`. */
export interface RunningModel {
  name: string;
  model: string;
  /** Memory used in bytes. */
  size: number;
  digest: string;
  details: ModelDetails;
  /** RFC 3339 timestamp when the model will be unloaded. */
  expires_at: string;
  /** Part of `size` held in VRAM, in bytes. */
  size_vram: number;
  /** Context length the model was loaded with (newer Ollama versions). */
  context_length?: number;
}

/** Body of `GET /api/ps`. */
export interface PsResponse {
  models: RunningModel[];
}

/** Body of `POST /api/show`. */
export interface ShowResponse {
  license?: string;
  modelfile?: string;
  /** Modelfile parameters, one per line. */
  parameters?: string;
  template?: string;
  system?: string;
  details: ModelDetails;
  messages?: Message[];
  /** GGUF metadata, e.g. `general.architecture`, `llama.context_length`. */
  model_info?: { [key: string]: unknown };
  projector_info?: { [key: string]: unknown };
  /** What the model supports, e.g. `completion`, `tools`, `vision`, `thinking`. */
  capabilities?: string[];
  /** RFC 3339 timestamp. */
  modified_at?: string;
}

/** One progress object streamed by `POST /api/pull`. */
export interface PullProgress {
  /** Phase, e.g. `pulling manifest`, `downloading …`, `success`. */
  status: string;
  /** Layer being downloaded. */
  digest?: string;
  /** Layer size in bytes. */
  total?: number;
  /** Bytes of the layer downloaded so far. */
  completed?: number;
}

/** Body of `GET /api/version`. */
export interface VersionResponse {
  /** Ollama server version, e.g. `0.6.2`. */
  version: string;
}
