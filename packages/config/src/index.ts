export * from './audit-env.js';
export * from './env.js';
export * from './schemas.js';
export * from './secrets.js';
