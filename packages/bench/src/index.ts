export {
  type HttpTaskRequest,
  httpTask,
  type LoadOptions,
  type LoadResult,
  type LoadTask,
  runLoad,
} from './load.js';
export {
  OVERHEAD_DEFAULTS,
  OVERHEAD_PATHS,
  type OverheadOptions,
  type OverheadPath,
  type OverheadReport,
  renderOverhead,
  runOverhead,
} from './overhead.js';
export { type Align, int, markdownTable, ms, ratio, verdict } from './report.js';
export { type LatencySummary, percentile, summarize } from './stats.js';
