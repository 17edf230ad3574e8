export { buildSim } from './app.js';
export type { LoadedModelState, ModelCounters, RequestLogEntry, SimCounters } from './counters.js';
export type { ActiveFailure, FailureSpec, ResetOptions, SimControl } from './engine.js';
export { QUEUE_FULL_MESSAGE } from './http.js';
export type { ModelSpec, ModelsOption, NamedModelSpec, RuntimeConfig, SimOptions } from './options.js';
export type { JsonRegExp, JsonScriptRule, ScriptError, ScriptRule } from './scripts.js';
export { type SimHandle, type StartSimOptions, startSim } from './server.js';
