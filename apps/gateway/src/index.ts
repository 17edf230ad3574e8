export { buildApp, type GatewayAppOptions } from './app.js';
export { type MintOptions, mintToken, parseTtl } from './auth.js';
export { Errors } from './errors.js';
export type { RouteRule } from './plugins/app/auth.js';
export type { InstanceDirectory } from './plugins/app/instances.js';
export type { JobService } from './plugins/app/jobs.js';
export { normalizeModel } from './routes/process.js';
export { createServer, LOG_REDACT, type ServerOptions } from './server.js';
