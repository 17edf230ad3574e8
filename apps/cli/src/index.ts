export { start, startWorkers } from './start.js';
