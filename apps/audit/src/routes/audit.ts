import type { KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  type AuditEvent,
  type AuditEventInput,
  AuditPage,
  AuditQuery,
  AuditVerifyReport,
  ErrorBody,
} from '@ward/contracts';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csvHeader, csvLine } from '../csv.js';
import { AuditErrors } from '../errors.js';
import { FHIR_BUNDLE_END, fhirBundleEntry, fhirBundleStart } from '../fhir.js';
import { InvalidCursorError, queryAuditEvents, streamAuditRows } from '../query.js';
import type { AuditStore } from '../store.js';
import { verifyAuditChain } from '../verify.js';

/** What the audit routes need from the app. */
export interface AuditRoutesOptions {
  store: AuditStore;
  publicKeys: KeyObject[];
  /** Records an access to the audit trail (throws a 503 error when it cannot). */
  record(request: FastifyRequest, input: Omit<AuditEventInput, 'actor' | 'source'>): Promise<void>;
}

const EventsQuery = Type.Object(
  {
    ...AuditQuery.properties,
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const EXPORT_FORMATS = ['ndjson', 'csv', 'fhir'] as const;
const ExportQuery = Type.Object(
  { ...AuditQuery.properties, format: Type.Optional(Type.Enum(EXPORT_FORMATS, { default: 'ndjson' })) },
  { additionalProperties: false },
);

/** The filters of a query, as `detail` of the event that records it. */
function filterDetail(q: AuditQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[`filter.${k}`] = String(v);
  return out;
}

function filtersOf<T extends AuditQuery>(q: T): AuditQuery {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(AuditQuery.properties)) {
    const v = (q as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as AuditQuery;
}

const CONTENT_TYPE: Record<(typeof EXPORT_FORMATS)[number], string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  fhir: 'application/fhir+json',
};
const EXTENSION: Record<(typeof EXPORT_FORMATS)[number], string> = {
  ndjson: 'ndjson',
  csv: 'csv',
  fhir: 'json',
};

/** `GET /api/audit/events`, `/api/audit/export`, `/api/audit/verify` (admin and auditor, via the gateway). */
const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, opts) => {
  const config = { internal: true };
  const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

  app.get(
    '/api/audit/events',
    {
      config,
      schema: {
        summary: 'Audit events matching the filters, newest first, one page at a time',
        querystring: EventsQuery,
        response: { 200: AuditPage, ...errors },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const filters = filtersOf(request.query);
      let page: AuditPage;
      try {
        page = await queryAuditEvents(opts.store.db, filters, { cursor, limit: limit ?? 100 });
      } catch (err) {
        if (err instanceof InvalidCursorError)
          throw Object.assign(new AuditErrors.Validation(err.message), { field: 'cursor' });
        throw err;
      }
      await opts.record(request, {
        action: 'audit.queried',
        outcome: 'success',
        resource: { type: 'audit-trail' },
        detail: { ...filterDetail(filters), rows: page.events.length, ...(cursor && { page: 'next' }) },
      });
      return page;
    },
  );

  app.get(
    '/api/audit/export',
    {
      config,
      schema: {
        summary: 'Every matching event as NDJSON, CSV or a FHIR R4 AuditEvent Bundle (oldest first)',
        querystring: ExportQuery,
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'ndjson';
      const filters = filtersOf(request.query);
      await opts.record(request, {
        action: 'audit.exported',
        outcome: 'success',
        resource: { type: 'audit-trail' },
        detail: { ...filterDetail(filters), format },
      });
      const rows = streamAuditRows(opts.store.db, filters);
      async function* body(): AsyncGenerator<string> {
        if (format === 'csv') yield csvHeader();
        if (format === 'fhir') yield fhirBundleStart();
        let first = true;
        for await (const row of rows) {
          if (format === 'ndjson') yield `{"seq":${row.seq},"hash":"${row.hash}","event":${row.event}}\n`;
          else if (format === 'csv') yield csvLine(row);
          else {
            yield `${first ? '' : ','}${fhirBundleEntry(JSON.parse(row.event) as AuditEvent, row)}`;
            first = false;
          }
        }
        if (format === 'fhir') yield FHIR_BUNDLE_END;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .header('content-type', CONTENT_TYPE[format])
        .header('content-disposition', `attachment; filename="ward-audit-${stamp}.${EXTENSION[format]}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(body()));
    },
  );

  app.get(
    '/api/audit/verify',
    {
      config,
      schema: {
        summary: 'Recompute the hash chain and check every signed checkpoint',
        response: { 200: AuditVerifyReport, ...errors },
      },
    },
    async (request) => {
      const report = await verifyAuditChain(opts.store.db, opts.publicKeys);
      await opts.record(request, {
        action: 'audit.verified',
        outcome: report.ok ? 'success' : 'failure',
        ...(report.problem && { reason: report.problem.kind }),
        resource: { type: 'audit-trail' },
        detail: {
          rows: report.rows,
          ...(report.problem && { problemSeq: report.problem.seq }),
          durationMs: report.durationMs,
        },
      });
      return report;
    },
  );
};

export default auditRoutes;
