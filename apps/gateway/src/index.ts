export { buildApp, type GatewayAppOptions } from './app.js';
export { type MintOptions, mintToken, parseTtl } from './auth.js';
export { Errors } from './errors.js';
export { normalizeModel } from './routes/process.js';
export { createServer, LOG_REDACT, type ServerOptions } from './server.js';
