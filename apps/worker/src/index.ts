export * from './instance-worker.js';
export * from './process-job.js';
