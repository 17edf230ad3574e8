export * from './audit.js';
export * from './heartbeat.js';
export * from './names.js';
export * from './redis.js';
export * from './seal.js';
