export * from './audit.js';
export * from './error-body.js';
export * from './http.js';
export * from './jobs.js';
export * from './model-name.js';
export * from './roles.js';
