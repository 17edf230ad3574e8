// Ward's metric contract and the PromQL of its Grafana dashboards and Prometheus alert rules, as
// the deployment tests (promtool, and a real Prometheus scraping a running Ward) read them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** A path in the repository. */
export const repo = (...p: string[]) => join(REPO, ...p);

const HISTOGRAMS = [
  'ward_http_request_duration_seconds',
  'ward_job_wait_seconds',
  'ward_job_processing_seconds',
  'ward_generation_tokens_per_second',
  'ward_time_to_first_token_seconds',
];
/** Ward's metrics and the labels each carries. */
export const WARD_LABELS: Record<string, string[]> = {
  ward_http_request_duration_seconds: ['route', 'method', 'status_code'],
  ward_queue_jobs: ['model', 'state'],
  ward_job_wait_seconds: ['model', 'instance'],
  ward_job_processing_seconds: ['model', 'instance'],
  ward_instance_inflight: ['instance'],
  ward_instance_up: ['instance'],
  ward_tokens_generated_total: ['model'],
  ward_generation_tokens_per_second: ['model'],
  ward_time_to_first_token_seconds: ['model'],
  ward_model_loads_total: ['instance', 'model'],
  ward_audit_lag_seconds: [],
  ward_audit_events_written_total: [],
  ward_errors_total: ['code'],
};
/** prom-client's default metrics (less the `_total` gauges Ward drops), and Prometheus's own `up`. */
const OTHER_METRICS = [
  'up',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];
/** Labels on every series: Prometheus's target labels (prometheus.yml) and Ward's `app`. */
const TARGET_LABELS = ['job', 'instance', 'service', 'app'];
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'];

/** Series name → labels it may be selected by. */
export const KNOWN = new Map<string, string[]>();
for (const [name, labels] of Object.entries(WARD_LABELS)) {
  if (HISTOGRAMS.includes(name)) {
    KNOWN.set(`${name}_bucket`, [...labels, 'le']);
    KNOWN.set(`${name}_sum`, labels);
    KNOWN.set(`${name}_count`, labels);
  } else KNOWN.set(name, labels);
}
for (const name of OTHER_METRICS) KNOWN.set(name, []);

const NOT_METRICS = new Set(
  'by without on ignoring group_left group_right bool and or unless offset sum min max avg count stddev stdvar topk bottomk quantile count_values group limitk limit_ratio inf nan'.split(
    ' ',
  ),
);

/** Metric names a PromQL expression reads, and each selector's label matchers. */
function parsePromql(expr: string): {
  metrics: string[];
  matchers: Array<{ metric: string; label: string; value: string }>;
} {
  const matchers: Array<{ metric: string; label: string; value: string }> = [];
  for (const sel of expr.matchAll(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g)) {
    for (const m of (sel[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g))
      matchers.push({ metric: sel[1] ?? '', label: m[1]!, value: m[2]! });
  }
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1');
  const metrics: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const before = bare[m.index - 1] ?? ' ';
    if (/[\d.$]/.test(before)) continue; // 1e3, 5m, $variable
    if (
      bare
        .slice(m.index + m[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue; // a function
    if (NOT_METRICS.has(m[0].toLowerCase())) continue;
    metrics.push(m[0]);
  }
  return { metrics, matchers };
}

/** Problems of one expression against the metric contract (empty when it keeps to it). */
export function contractProblems(expr: string): string[] {
  const problems: string[] = [];
  const { metrics, matchers } = parsePromql(expr);
  if (!metrics.length) problems.push('reads no metric');
  for (const m of metrics) if (!KNOWN.has(m)) problems.push(`unknown metric ${m}`);
  for (const { metric, label, value } of matchers) {
    const allowed = [...(KNOWN.get(metric) ?? []), ...TARGET_LABELS];
    if (metric && !allowed.includes(label)) problems.push(`${metric} has no label ${label}`);
    if (label === 'state')
      for (const s of value.split('|'))
        if (!QUEUE_STATES.includes(s)) problems.push(`ward_queue_jobs has no state ${s}`);
  }
  return problems;
}

/** Grafana's variables replaced by values PromQL accepts. */
export const withoutGrafanaVariables = (expr: string) =>
  expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+\}?/g, '.*');

interface Panel {
  title?: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: {
    list: Array<{ name: string; query?: string | { query: string }; datasource?: { uid?: string } }>;
  };
}

const DASHBOARD_DIR = repo('deploy/grafana/dashboards');
export const dashboards = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    file: f,
    dashboard: JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard,
  }));
export const allPanels = (panels: Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
export const queries = dashboards.flatMap(({ file, dashboard }) =>
  allPanels(dashboard.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr ?? '' })),
  ),
);
export const alertExprs = [
  ...readFileSync(repo('deploy/prometheus/alerts.yml'), 'utf8').matchAll(/^\s+expr: (.+)$/gm),
].map((m) => m[1]!.trim());
