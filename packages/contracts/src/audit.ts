import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { ROLES } from './roles.js';

/**
 * Ward's audit trail (HIPAA 45 CFR 164.312(b) audit controls, (c) integrity). Events say who did
 * what, when, from where and with what outcome; they carry SHA-256 digests of prompts and outputs,
 * never the content. Fields map onto FHIR R4 AuditEvent (see `apps/audit/src/fhir.ts`).
 */

/** The BullMQ queue every app puts audit events on; `apps/audit` consumes it. */
export const AUDIT_QUEUE_NAME = 'audit';

/**
 * Job names on the audit queue: `e` carries one {@link AuditEvent} (its id is the job id), `b` an
 * {@link AuditEventBatch} (several events sent together, one Redis job for all of them).
 */
export const AUDIT_JOB = { event: 'e', batch: 'b' } as const;

/** The data of a `b` job on the audit queue. */
export interface AuditEventBatch {
  events: AuditEvent[];
}

/** Every action Ward audits. Dotted names: `<area>.<verb>`; new actions are appended, never renamed. */
export const AUDIT_ACTIONS = [
  // Authentication and authorisation
  'auth.login.succeeded',
  'auth.login.failed',
  'auth.logout',
  'auth.token.issued',
  'access.denied',
  // Clinical processing (a job on a model queue, or a model-free task)
  'process.requested',
  'process.started',
  'process.completed',
  'process.failed',
  'process.cancelled',
  // Accounts and API keys
  'user.created',
  'user.updated',
  'user.role.changed',
  'user.password.changed',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'apikey.created',
  'apikey.revoked',
  // Models and configuration
  'model.pulled',
  'model.deleted',
  'model.updated',
  'config.changed',
  // The audit trail itself (auditing the auditors)
  'audit.queried',
  'audit.exported',
  'audit.verified',
  'audit.purged',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `success`; `failure` (the operation ran and failed, e.g. a bad password); `denied` (not allowed); `error` (the system failed). */
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** How the actor authenticated. `internal` is a Ward process acting on its own behalf; `cli` an operator at the console. */
export const AUDIT_AUTH_METHODS = ['jwt', 'api-key', 'oidc', 'password', 'internal', 'cli'] as const;
export type AuditAuthMethod = (typeof AUDIT_AUTH_METHODS)[number];

/** The Ward service that observed the event (FHIR `AuditEvent.source.observer`). */
export const AUDIT_SERVICES = ['gateway', 'worker', 'audit', 'cli'] as const;
export type AuditService = (typeof AUDIT_SERVICES)[number];

/** What an event is about, when it is not named by the specific resource fields. */
export const AUDIT_RESOURCE_TYPES = [
  'job',
  'task',
  'model',
  'instance',
  'user',
  'api-key',
  'config',
  'audit-trail',
  'route',
] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

/** A SHA-256 digest in lower-case hex: the only trace of patient content an event may carry. */
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex' });

/** A ULID (Crockford base32, 26 characters). */
export const UlidString = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });

/** A UTC instant with milliseconds: `2026-12-04T20:15:03.120Z`. */
export const UtcTimestamp = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
  description: 'UTC, ISO 8601 with milliseconds',
});

const Short = (maxLength: number) => Type.String({ minLength: 1, maxLength });

/** Who acted. `sub` is an account identifier (or the name tried at a failed login), never a patient's. */
export const AuditActor = Type.Object(
  {
    sub: Short(200),
    role: Type.Optional(Type.Enum(ROLES)),
    method: Type.Optional(Type.Enum(AUDIT_AUTH_METHODS)),
  },
  { additionalProperties: false },
);
export type AuditActor = Static<typeof AuditActor>;

/** Where the event was observed and where the request came from. */
export const AuditSource = Type.Object(
  {
    service: Type.Enum(AUDIT_SERVICES),
    /** Host name of the observing process. */
    host: Type.Optional(Short(255)),
    /** Client IP address as the observing service saw it. */
    ip: Type.Optional(Short(64)),
    userAgent: Type.Optional(Short(512)),
  },
  { additionalProperties: false },
);
export type AuditSource = Static<typeof AuditSource>;

/** What the event is about. Identifiers only. */
export const AuditResource = Type.Object(
  {
    type: Type.Optional(Type.Enum(AUDIT_RESOURCE_TYPES)),
    /** Identifier of a resource of `type` (a user id, an API key id, a configuration key). */
    id: Type.Optional(Short(400)),
    model: Type.Optional(Short(200)),
    task: Type.Optional(Short(100)),
    jobId: Type.Optional(Short(400)),
    instance: Type.Optional(Short(200)),
  },
  { additionalProperties: false },
);
export type AuditResource = Static<typeof AuditResource>;

/** The HTTP exchange behind the event: the route pattern, never the raw URL (it could carry data). */
export const AuditHttp = Type.Object(
  {
    method: Short(16),
    route: Short(400),
    status: Type.Integer({ minimum: 100, maximum: 599 }),
  },
  { additionalProperties: false },
);

const Ms = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });

/**
 * One audit event, as emitted and as stored (`event` column, canonical JSON). Everything here is
 * metadata: digests stand in for content, and unknown fields are refused so content cannot slip in.
 */
export const AuditEvent = Type.Object(
  {
    v: Type.Literal(1),
    id: UlidString,
    /** When the event happened (FHIR `recorded`). */
    time: UtcTimestamp,
    action: Type.Enum(AUDIT_ACTIONS),
    outcome: Type.Enum(AUDIT_OUTCOMES),
    /** Why it failed or was denied: an error code or a short fixed message, never user content. */
    reason: Type.Optional(Short(500)),
    /** Absent when nobody was authenticated (e.g. a request without a token). */
    actor: Type.Optional(AuditActor),
    source: AuditSource,
    requestId: Type.Optional(Short(128)),
    resource: Type.Optional(AuditResource),
    http: Type.Optional(AuditHttp),
    durations: Type.Optional(
      Type.Object(
        {
          totalMs: Type.Optional(Ms),
          queueMs: Type.Optional(Ms),
          loadMs: Type.Optional(Ms),
          promptEvalMs: Type.Optional(Ms),
          generationMs: Type.Optional(Ms),
        },
        { additionalProperties: false },
      ),
    ),
    tokens: Type.Optional(
      Type.Object(
        { prompt: Type.Optional(Count), completion: Type.Optional(Count) },
        { additionalProperties: false },
      ),
    ),
    /** SHA-256 of the content involved (prompt incl. system prompt, images, output). */
    digests: Type.Optional(
      Type.Object(
        {
          prompt: Type.Optional(Sha256Hex),
          image: Type.Optional(Sha256Hex),
          output: Type.Optional(Sha256Hex),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Small non-clinical facts (changed field names, filters of an audit query, row counts).
     * Never patient data.
     */
    detail: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 64 }),
        Type.Union([Type.String({ maxLength: 400 }), Type.Number(), Type.Boolean()]),
        {
          maxProperties: 32,
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AuditEvent = Static<typeof AuditEvent>;

/** What an emitter is given: the event without the fields it fills in (id, time, version, source). */
export type AuditEventInput = Omit<AuditEvent, 'v' | 'id' | 'time' | 'source'> &
  Partial<Pick<AuditEvent, 'id' | 'time' | 'source'>>;

/** A stored event: the event plus its place in the hash chain. */
export const StoredAuditEvent = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  hash: Sha256Hex,
  event: AuditEvent,
});
export type StoredAuditEvent = Static<typeof StoredAuditEvent>;

/** Filters of `GET /api/audit/events` and `GET /api/audit/export`. */
export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Actor subject' })),
    role: Type.Optional(Type.Enum(ROLES)),
    action: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 400,
        pattern: '^[a-z.*,]+$',
        description: 'An action, a prefix such as `process.*`, or several separated by commas',
      }),
    ),
    outcome: Type.Optional(Type.Enum(AUDIT_OUTCOMES)),
    resourceType: Type.Optional(Type.Enum(AUDIT_RESOURCE_TYPES)),
    resourceId: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    task: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    jobId: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
    instance: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive lower bound of `time`' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive upper bound of `time`' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'] as const)),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

/** One page of `GET /api/audit/events`. */
export const AuditPage = Type.Object({
  events: Type.Array(StoredAuditEvent),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: Type.Optional(Type.String()),
});
export type AuditPage = Static<typeof AuditPage>;

/** What went wrong at the first bad place in the chain. */
export const AUDIT_PROBLEM_KINDS = [
  /** A row's content no longer matches its hash: a field was changed. */
  'row-altered',
  /** Sequence numbers skip: rows were deleted. */
  'rows-missing',
  /** A row that was not written by the chain sits between two real rows. */
  'row-inserted',
  /** A row does not link to the row before it (prev_hash). */
  'chain-broken',
  /** The first row does not start where the chain (or the last purge) says it must. */
  'bad-start',
  /** Rows a signed checkpoint covers are gone from the end. */
  'tail-truncated',
  /** A signed checkpoint's hash or row count disagrees with the rows. */
  'checkpoint-mismatch',
  /** A checkpoint's signature does not verify, or it names an unknown key. */
  'checkpoint-signature',
] as const;
export type AuditProblemKind = (typeof AUDIT_PROBLEM_KINDS)[number];

/** The result of verifying the audit chain (`GET /api/audit/verify`, `ward audit verify`). */
export const AuditVerifyReport = Type.Object({
  ok: Type.Boolean(),
  /** Rows read. */
  rows: Type.Integer(),
  firstSeq: Type.Optional(Type.Integer()),
  lastSeq: Type.Optional(Type.Integer()),
  /** Checkpoints whose signature and position were checked. */
  checkpoints: Type.Integer(),
  lastCheckpointSeq: Type.Optional(Type.Integer()),
  /** Rows after the last signed checkpoint: protected by the chain only until the next checkpoint. */
  unsealedRows: Type.Integer(),
  /** The first problem found, by sequence number. */
  problem: Type.Optional(
    Type.Object({
      kind: Type.Enum(AUDIT_PROBLEM_KINDS),
      seq: Type.Integer(),
      message: Type.String(),
      checkpointId: Type.Optional(Type.Integer()),
    }),
  ),
  durationMs: Type.Number(),
});
export type AuditVerifyReport = Static<typeof AuditVerifyReport>;

let compiled:
  | {
      Check(value: unknown): boolean;
      Errors(value: unknown): Iterable<{ instancePath: string; message: string }>;
    }
  | undefined;

/**
 * Checks a value against {@link AuditEvent}. Returns undefined when it is valid, otherwise a short
 * description of the first problem (a path and a rule, never the offending value).
 */
export function auditEventProblem(value: unknown): string | undefined {
  compiled ??= Compile(AuditEvent);
  const validator = compiled;
  if (validator.Check(value)) return undefined;
  for (const e of validator.Errors(value)) {
    return `${e.instancePath || '/'} ${e.message}`;
  }
  return 'is not an audit event';
}
