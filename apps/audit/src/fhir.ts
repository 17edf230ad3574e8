/**
 * FHIR R4 AuditEvent mapping of Ward's audit events (http://hl7.org/fhir/R4/auditevent.html),
 * following the IHE Basic Audit Log Patterns where a DICOM code fits: type/subtype from the
 * action, `action` C/R/U/D/E, `outcome` 0/4/8, the actor as the requesting agent with its network
 * address, Ward as the source, and the job, model or account as entities whose details carry
 * digests, token counts and durations (never content).
 */
import type { AuditAction, AuditEvent } from '@ward/contracts';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** Ward's own code systems (URNs: Ward publishes no terminology server). */
export const WARD_SYSTEMS = {
  action: 'urn:ward:audit-action',
  role: 'urn:ward:role',
  authMethod: 'urn:ward:auth-method',
  user: 'urn:ward:user',
  chain: 'urn:ward:audit-chain',
} as const;

interface Coding {
  system: string;
  code: string;
  display?: string;
}

/** The FHIR R4 AuditEvent resource Ward produces (the subset of fields it fills). */
export interface FhirAuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  extension: Array<{
    url: string;
    extension: Array<{ url: string; valueInteger?: number; valueString?: string }>;
  }>;
  type: Coding;
  subtype: Coding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  period?: { start: string; end: string };
  recorded: string;
  outcome: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  agent: Array<{
    type?: { coding: Coding[] };
    role?: Array<{ coding: Coding[]; text: string }>;
    who: { identifier?: { system: string; value: string }; display: string };
    altId?: string;
    requestor: boolean;
    network?: { address: string; type: '2' };
    policy?: string[];
  }>;
  source: {
    site?: string;
    observer: { display: string };
    type: Coding[];
  };
  entity?: Array<{
    what?: { identifier: { system: string; value: string } };
    type: Coding;
    name?: string;
    description?: string;
    detail?: Array<{ type: string; valueString: string }>;
  }>;
}

function typeOf(action: AuditAction): Coding {
  if (action.startsWith('auth.')) return { system: DCM, code: '110114', display: 'User Authentication' };
  if (action === 'access.denied') return { system: DCM, code: '110113', display: 'Security Alert' };
  if (action.startsWith('audit.')) return { system: DCM, code: '110101', display: 'Audit Log Used' };
  if (action.startsWith('user.') || action.startsWith('apikey.'))
    return { system: DCM, code: '110137', display: 'User Security Attributes Changed' };
  if (action.startsWith('process.'))
    return { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' };
  return { system: DCM, code: '110100', display: 'Application Activity' };
}

function subtypesOf(action: AuditAction): Coding[] {
  const ward: Coding = { system: WARD_SYSTEMS.action, code: action };
  if (action === 'auth.login.succeeded' || action === 'auth.login.failed')
    return [{ system: DCM, code: '110122', display: 'Login' }, ward];
  if (action === 'auth.logout') return [{ system: DCM, code: '110123', display: 'Logout' }, ward];
  if (action === 'audit.exported') return [{ system: DCM, code: '110106', display: 'Export' }, ward];
  return [ward];
}

function actionOf(action: AuditAction): FhirAuditEvent['action'] {
  if (/\.(created|pulled)$/.test(action)) return 'C';
  if (/\.(deleted|revoked|purged)$/.test(action)) return 'D';
  if (/^(user|model|config)\./.test(action)) return 'U';
  if (action === 'audit.queried' || action === 'audit.exported' || action === 'audit.verified') return 'R';
  return 'E';
}

const OUTCOME: Record<AuditEvent['outcome'], FhirAuditEvent['outcome']> = {
  success: '0',
  failure: '4',
  denied: '4',
  error: '8',
};

/** Maps one stored event (with its place in the chain) to a FHIR R4 AuditEvent. */
export function toFhirAuditEvent(e: AuditEvent, chain: { seq: number; hash: string }): FhirAuditEvent {
  const agent: FhirAuditEvent['agent'][number] = {
    type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
    who: e.actor
      ? { identifier: { system: WARD_SYSTEMS.user, value: e.actor.sub }, display: e.actor.sub }
      : { display: 'unauthenticated' },
    requestor: true,
  };
  if (e.actor?.role)
    agent.role = [{ coding: [{ system: WARD_SYSTEMS.role, code: e.actor.role }], text: e.actor.role }];
  if (e.actor?.method) agent.policy = [`${WARD_SYSTEMS.authMethod}:${e.actor.method}`];
  if (e.source.ip) agent.network = { address: e.source.ip, type: '2' };

  const entity: NonNullable<FhirAuditEvent['entity']> = [];
  const r = e.resource;
  const details: Array<{ type: string; valueString: string }> = [];
  const add = (type: string, value: unknown) => {
    if (value !== undefined && value !== null) details.push({ type, valueString: String(value) });
  };
  add('model', r?.model);
  add('task', r?.task);
  add('instance', r?.instance);
  add('promptSha256', e.digests?.prompt);
  add('imageSha256', e.digests?.image);
  add('outputSha256', e.digests?.output);
  add('promptTokens', e.tokens?.prompt);
  add('completionTokens', e.tokens?.completion);
  for (const [k, v] of Object.entries(e.durations ?? {})) add(k, v);
  if (e.http) {
    add('httpMethod', e.http.method);
    add('httpRoute', e.http.route);
    add('httpStatus', e.http.status);
  }
  for (const [k, v] of Object.entries(e.detail ?? {})) add(k, v);
  const objectType: Coding = { system: ENTITY_TYPE, code: '2', display: 'System Object' };
  const what = r?.jobId
    ? { system: 'urn:ward:job', value: r.jobId }
    : r?.id && r.type
      ? { system: `urn:ward:${r.type}`, value: r.id }
      : r?.model
        ? { system: 'urn:ward:model', value: r.model }
        : undefined;
  if (what || details.length) {
    entity.push({
      ...(what && { what: { identifier: what } }),
      type: objectType,
      ...(r?.type && { name: r.type }),
      ...(details.length && { detail: details }),
    });
  }
  if (e.requestId)
    entity.push({
      what: { identifier: { system: 'urn:ward:request', value: e.requestId } },
      type: objectType,
      description: 'HTTP request',
    });

  const totalMs = e.durations?.totalMs;
  return {
    resourceType: 'AuditEvent',
    id: e.id,
    extension: [
      {
        url: WARD_SYSTEMS.chain,
        extension: [
          { url: 'seq', valueInteger: chain.seq },
          { url: 'hash', valueString: chain.hash },
        ],
      },
    ],
    type: typeOf(e.action),
    subtype: subtypesOf(e.action),
    action: actionOf(e.action),
    ...(totalMs !== undefined && {
      period: { start: new Date(Date.parse(e.time) - totalMs).toISOString(), end: e.time },
    }),
    recorded: e.time,
    outcome: OUTCOME[e.outcome],
    ...(e.reason && { outcomeDesc: e.reason }),
    agent: [agent],
    source: {
      ...(e.source.host && { site: e.source.host }),
      observer: { display: `ward-${e.source.service}` },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    ...(entity.length && { entity }),
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID's 128 bits written as a UUID, for `urn:uuid:` full URLs in a Bundle. */
export function ulidToUuid(ulid: string): string {
  let n = 0n;
  for (const ch of ulid.toUpperCase()) n = (n << 5n) | BigInt(CROCKFORD.indexOf(ch));
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The opening of a FHIR `collection` Bundle; entries follow, comma separated, then {@link FHIR_BUNDLE_END}. */
export function fhirBundleStart(timestamp = new Date().toISOString()): string {
  return `{"resourceType":"Bundle","type":"collection","timestamp":${JSON.stringify(timestamp)},"entry":[`;
}

export const FHIR_BUNDLE_END = ']}';

/** One Bundle entry for a stored event. */
export function fhirBundleEntry(e: AuditEvent, chain: { seq: number; hash: string }): string {
  return JSON.stringify({ fullUrl: `urn:uuid:${ulidToUuid(e.id)}`, resource: toFhirAuditEvent(e, chain) });
}
