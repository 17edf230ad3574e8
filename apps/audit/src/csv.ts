import type { AuditEvent } from '@ward/contracts';
import type { RawAuditRow } from './query.js';

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'seq',
  'id',
  'time',
  'action',
  'outcome',
  'reason',
  'actor_sub',
  'actor_role',
  'actor_method',
  'source_service',
  'source_host',
  'source_ip',
  'user_agent',
  'request_id',
  'resource_type',
  'resource_id',
  'model',
  'task',
  'job_id',
  'instance',
  'http_method',
  'http_route',
  'http_status',
  'total_ms',
  'queue_ms',
  'load_ms',
  'prompt_eval_ms',
  'generation_ms',
  'prompt_tokens',
  'completion_tokens',
  'prompt_sha256',
  'image_sha256',
  'output_sha256',
  'detail',
  'hash',
] as const;

/** One CSV field: quoted when needed, and defused when a spreadsheet would run it as a formula. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s = typeof value === 'string' ? value : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The header line (CRLF-terminated, RFC 4180). */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One stored row as a CSV line. */
export function csvLine(row: RawAuditRow): string {
  const e = JSON.parse(row.event) as AuditEvent;
  const values: unknown[] = [
    row.seq,
    e.id,
    e.time,
    e.action,
    e.outcome,
    e.reason,
    e.actor?.sub,
    e.actor?.role,
    e.actor?.method,
    e.source.service,
    e.source.host,
    e.source.ip,
    e.source.userAgent,
    e.requestId,
    e.resource?.type,
    e.resource?.id,
    e.resource?.model,
    e.resource?.task,
    e.resource?.jobId,
    e.resource?.instance,
    e.http?.method,
    e.http?.route,
    e.http?.status,
    e.durations?.totalMs,
    e.durations?.queueMs,
    e.durations?.loadMs,
    e.durations?.promptEvalMs,
    e.durations?.generationMs,
    e.tokens?.prompt,
    e.tokens?.completion,
    e.digests?.prompt,
    e.digests?.image,
    e.digests?.output,
    e.detail ? JSON.stringify(e.detail) : undefined,
    row.hash,
  ];
  return `${values.map(csvField).join(',')}\r\n`;
}
