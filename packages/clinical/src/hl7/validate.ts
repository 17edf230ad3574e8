/**
 * A structural FHIR R4 check for the bundles the converter emits: required elements, cardinality,
 * code values, primitive formats, the invariants those resources carry, and that every reference
 * resolves inside the bundle. Messages name paths and rules, never values.
 */
import type { Hl7Finding } from './types.js';

type Json = Record<string, unknown>;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const DATE = new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`);
const DATE_TIME = new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${ZONE})?)?)?$`);
const INSTANT = new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${ZONE}$`);
const TIME_OF_DAY = new RegExp(`^${TIME}$`);
const CODE = /^[^\s]+( [^\s]+)*$/;
const URI = /^\S+$/;
const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OID_URN = /^urn:oid:[0-2](\.(0|[1-9]\d*))+$/;
const ABSOLUTE_URL = /^https?:\/\/\S+$/;
const RELATIVE_REFERENCE = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

const BUNDLE_TYPES = new Set([
  'document',
  'message',
  'transaction',
  'transaction-response',
  'batch',
  'batch-response',
  'history',
  'searchset',
  'collection',
]);
const HTTP_VERBS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']);

const ENUMS: Record<string, Record<string, readonly string[]>> = {
  Patient: { gender: ['male', 'female', 'other', 'unknown'] },
  Encounter: {
    status: [
      'planned',
      'arrived',
      'triaged',
      'in-progress',
      'onleave',
      'finished',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  Observation: {
    status: [
      'registered',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  DiagnosticReport: {
    status: [
      'registered',
      'partial',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'appended',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  AllergyIntolerance: {
    type: ['allergy', 'intolerance'],
    category: ['food', 'medication', 'environment', 'biologic'],
    criticality: ['low', 'high', 'unable-to-assess'],
  },
  DocumentReference: {
    status: ['current', 'superseded', 'entered-in-error'],
    docStatus: ['preliminary', 'final', 'amended', 'entered-in-error'],
  },
  Location: { status: ['active', 'suspended', 'inactive'], mode: ['instance', 'kind'] },
};

const REQUIRED: Record<string, readonly string[]> = {
  Encounter: ['status', 'class'],
  Observation: ['status', 'code'],
  DiagnosticReport: ['status', 'code'],
  AllergyIntolerance: ['patient'],
  Condition: ['subject'],
  DocumentReference: ['status', 'content'],
};

/** Reference-typed paths (dot-separated, arrays walked) and the resource types they may point to. */
const REFERENCE_TARGETS: Record<string, [path: string, types: readonly string[]][]> = {
  Patient: [['generalPractitioner', ['Organization', 'Practitioner', 'PractitionerRole']]],
  Encounter: [
    ['subject', ['Patient', 'Group']],
    ['participant.individual', ['Practitioner', 'PractitionerRole', 'RelatedPerson']],
    ['location.location', ['Location']],
    ['diagnosis.condition', ['Condition', 'Procedure']],
  ],
  Observation: [
    ['subject', ['Patient', 'Group', 'Device', 'Location']],
    ['encounter', ['Encounter']],
    [
      'performer',
      ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Patient', 'RelatedPerson'],
    ],
  ],
  DiagnosticReport: [
    ['subject', ['Patient', 'Group', 'Device', 'Location']],
    ['encounter', ['Encounter']],
    ['result', ['Observation']],
  ],
  AllergyIntolerance: [
    ['patient', ['Patient']],
    ['encounter', ['Encounter']],
  ],
  Condition: [
    ['subject', ['Patient', 'Group']],
    ['encounter', ['Encounter']],
    ['asserter', ['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson']],
  ],
  DocumentReference: [
    ['subject', ['Patient', 'Practitioner', 'Group', 'Device']],
    ['context.encounter', ['Encounter', 'EpisodeOfCare']],
  ],
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codingCodes(concept: unknown, system: string): string[] {
  if (!isObject(concept) || !Array.isArray(concept.coding)) return [];
  return concept.coding
    .filter((c) => isObject(c) && c.system === system)
    .map((c) => String((c as Json).code));
}

class Checker {
  readonly findings: Hl7Finding[] = [];

  error(code: string, message: string, path: string): void {
    this.findings.push({ severity: 'error', code, message, path });
  }

  warning(code: string, message: string, path: string): void {
    this.findings.push({ severity: 'warning', code, message, path });
  }

  /** ele-1 and primitive formats, by element name, for any JSON below `value`. */
  walk(value: unknown, path: string, key: string, parentKey: string, root: string): void {
    if (value === null || value === undefined) {
      this.error(
        'FHIR_EMPTY_ELEMENT',
        `${key} is null; FHIR elements must have a value or children (ele-1).`,
        path,
      );
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) this.error('FHIR_EMPTY_ELEMENT', `${key} is an empty array (ele-1).`, path);
      value.forEach((item, i) => {
        this.walk(item, `${path}[${i}]`, key, parentKey, root);
      });
      return;
    }
    if (isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 0) this.error('FHIR_EMPTY_ELEMENT', `${key} is an empty object (ele-1).`, path);
      for (const k of keys) this.walk(value[k], `${path}.${k}`, k, key, root);
      return;
    }
    if (typeof value === 'string') {
      if (value.trim() === '') {
        this.error('FHIR_EMPTY_ELEMENT', `${key} is an empty string (ele-1).`, path);
        return;
      }
      this.primitive(value, path, key, parentKey, root);
      return;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      this.error('FHIR_INVALID_NUMBER', `${key} is not a finite number.`, path);
    }
  }

  private primitive(value: string, path: string, key: string, parentKey: string, root: string): void {
    const bad = (code: string, type: string) => this.error(code, `${key} is not a valid FHIR ${type}.`, path);
    if (key === 'birthDate') {
      if (!DATE.test(value)) bad('FHIR_INVALID_DATE', 'date');
    } else if (
      key.endsWith('DateTime') ||
      key === 'recordedDate' ||
      (key === 'time' && parentKey === 'note')
    ) {
      if (!DATE_TIME.test(value)) bad('FHIR_INVALID_DATETIME', 'dateTime');
    } else if ((key === 'start' || key === 'end') && /period$/i.test(parentKey)) {
      if (!DATE_TIME.test(value)) bad('FHIR_INVALID_DATETIME', 'dateTime');
    } else if (
      key === 'issued' ||
      key === 'timestamp' ||
      key === 'lastUpdated' ||
      (key === 'date' && root === 'DocumentReference' && parentKey === 'resource')
    ) {
      if (!INSTANT.test(value)) bad('FHIR_INVALID_INSTANT', 'instant');
    } else if (key === 'valueTime') {
      if (!TIME_OF_DAY.test(value)) bad('FHIR_INVALID_TIME', 'time');
    } else if (key === 'system' || key === 'url' || key === 'fullUrl') {
      if (!URI.test(value)) bad('FHIR_INVALID_URI', 'uri');
    } else if (
      key === 'code' ||
      key === 'gender' ||
      key === 'status' ||
      key === 'use' ||
      key === 'comparator'
    ) {
      if (!CODE.test(value)) bad('FHIR_INVALID_CODE', 'code');
    } else if (key === 'id') {
      if (!ID.test(value)) bad('FHIR_INVALID_ID', 'id');
    } else if (key === 'contentType') {
      if (!CODE.test(value)) bad('FHIR_INVALID_CODE', 'code');
    } else if (key === 'data') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) bad('FHIR_INVALID_BASE64', 'base64Binary');
    }
  }
}

/** Collects the values at a dot path below `value`, walking arrays. */
function at(value: unknown, path: string[]): unknown[] {
  if (path.length === 0) return value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (Array.isArray(value)) return value.flatMap((v) => at(v, path));
  if (!isObject(value)) return [];
  const [head, ...rest] = path;
  return at(value[head!], rest);
}

/** Every `{ reference: string }` below `value`, with its path. */
function references(value: unknown, path: string, out: { path: string; reference: string }[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      references(v, `${path}[${i}]`, out);
    });
  } else if (isObject(value)) {
    if (typeof value.reference === 'string')
      out.push({ path: `${path}.reference`, reference: value.reference });
    for (const [k, v] of Object.entries(value)) if (k !== 'reference') references(v, `${path}.${k}`, out);
  }
}

function checkQuantities(c: Checker, value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkQuantities(c, v, `${path}[${i}]`);
    });
    return;
  }
  if (!isObject(value)) return;
  if (typeof value.value === 'number' && 'code' in value && !('system' in value)) {
    c.error('FHIR_INVARIANT', 'A Quantity with a unit code must give its system (qty-3).', path);
  }
  for (const [k, v] of Object.entries(value)) checkQuantities(c, v, `${path}.${k}`);
}

function checkResource(c: Checker, resource: Json, path: string): void {
  const type = String(resource.resourceType);
  for (const field of REQUIRED[type] ?? []) {
    if (resource[field] === undefined) {
      c.error('FHIR_REQUIRED_ELEMENT_MISSING', `${type}.${field} is required (1..1).`, `${path}.${field}`);
    }
  }
  for (const [field, allowed] of Object.entries(ENUMS[type] ?? {})) {
    for (const v of at(resource[field], [])) {
      if (typeof v !== 'string' || !allowed.includes(v)) {
        c.error(
          'FHIR_INVALID_CODE',
          `${type}.${field} is not in its required value set.`,
          `${path}.${field}`,
        );
      }
    }
  }
  const valueKeys = Object.keys(resource).filter((k) => /^value[A-Z]/.test(k));
  const deceasedKeys = Object.keys(resource).filter((k) => /^deceased[A-Z]/.test(k));
  const multipleBirthKeys = Object.keys(resource).filter((k) => /^multipleBirth[A-Z]/.test(k));
  for (const [keys, name] of [
    [valueKeys, 'value[x]'],
    [deceasedKeys, 'deceased[x]'],
    [multipleBirthKeys, 'multipleBirth[x]'],
  ] as const) {
    if (keys.length > 1) c.error('FHIR_CARDINALITY', `${type}.${name} may appear only once (0..1).`, path);
  }
  checkQuantities(c, resource, path);

  switch (type) {
    case 'Patient':
      at(resource.telecom, []).forEach((t, i) => {
        if (isObject(t) && t.value !== undefined && t.system === undefined) {
          c.error(
            'FHIR_INVARIANT',
            'A ContactPoint with a value must give its system (cpt-2).',
            `${path}.telecom[${i}]`,
          );
        }
      });
      break;
    case 'Encounter': {
      if (resource.class !== undefined && (!isObject(resource.class) || resource.class.code === undefined)) {
        c.error('FHIR_REQUIRED_ELEMENT_MISSING', 'Encounter.class must carry a code.', `${path}.class`);
      }
      const period = resource.period;
      if (isObject(period) && typeof period.start === 'string' && typeof period.end === 'string') {
        const start = Date.parse(period.start);
        const end = Date.parse(period.end);
        if (!Number.isNaN(start) && !Number.isNaN(end) && start > end) {
          c.error('FHIR_INVARIANT', 'Encounter.period.start is after its end (per-1).', `${path}.period`);
        }
      }
      break;
    }
    case 'Observation':
      if (valueKeys.length > 0 && resource.dataAbsentReason !== undefined) {
        c.error(
          'FHIR_INVARIANT',
          'dataAbsentReason is only allowed without a value (obs-6).',
          `${path}.dataAbsentReason`,
        );
      }
      at(resource.referenceRange, []).forEach((r, i) => {
        if (isObject(r) && r.low === undefined && r.high === undefined && r.text === undefined) {
          c.error(
            'FHIR_INVARIANT',
            'A referenceRange needs low, high or text (obs-3).',
            `${path}.referenceRange[${i}]`,
          );
        }
      });
      break;
    case 'AllergyIntolerance': {
      const enteredInError = codingCodes(
        resource.verificationStatus,
        'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
      ).includes('entered-in-error');
      if (!enteredInError && resource.clinicalStatus === undefined) {
        c.error(
          'FHIR_INVARIANT',
          'AllergyIntolerance.clinicalStatus is required here (ait-1).',
          `${path}.clinicalStatus`,
        );
      }
      if (enteredInError && resource.clinicalStatus !== undefined) {
        c.error(
          'FHIR_INVARIANT',
          'clinicalStatus must be absent when entered-in-error (ait-2).',
          `${path}.clinicalStatus`,
        );
      }
      at(resource.reaction, []).forEach((r, i) => {
        if (!isObject(r) || !Array.isArray(r.manifestation) || r.manifestation.length === 0) {
          c.error(
            'FHIR_REQUIRED_ELEMENT_MISSING',
            'reaction.manifestation is required (1..*).',
            `${path}.reaction[${i}]`,
          );
        } else if (r.severity !== undefined && !['mild', 'moderate', 'severe'].includes(String(r.severity))) {
          c.error(
            'FHIR_INVALID_CODE',
            'reaction.severity is not in its required value set.',
            `${path}.reaction[${i}]`,
          );
        }
      });
      break;
    }
    case 'Condition': {
      const verification = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
      const enteredInError = codingCodes(resource.verificationStatus, verification).includes(
        'entered-in-error',
      );
      const problem = at(resource.category, []).some((cat) =>
        codingCodes(cat, 'http://terminology.hl7.org/CodeSystem/condition-category').includes(
          'problem-list-item',
        ),
      );
      if (problem && !enteredInError && resource.clinicalStatus === undefined) {
        c.error('FHIR_INVARIANT', 'A problem-list Condition needs clinicalStatus (con-3).', path);
      }
      if (enteredInError && resource.clinicalStatus !== undefined) {
        c.error('FHIR_INVARIANT', 'clinicalStatus must be absent when entered-in-error (con-5).', path);
      }
      break;
    }
    case 'DocumentReference':
      at(resource.content, []).forEach((content, i) => {
        const attachment = isObject(content) ? content.attachment : undefined;
        if (!isObject(attachment)) {
          c.error(
            'FHIR_REQUIRED_ELEMENT_MISSING',
            'content.attachment is required (1..1).',
            `${path}.content[${i}]`,
          );
        } else if (attachment.data !== undefined && attachment.contentType === undefined) {
          c.error(
            'FHIR_INVARIANT',
            'An Attachment with data must give its contentType (att-1).',
            `${path}.content[${i}]`,
          );
        }
      });
      break;
  }
}

/**
 * Checks a FHIR R4 Bundle for structural errors: required elements and cardinality of the resource
 * types the HL7 converter emits, required-binding codes, date/dateTime/instant/id/uri formats, the
 * invariants of those resources (ele-1, bdl-3, bdl-7, ait-1, obs-6, cpt-2, qty-3, per-1, …) and that
 * every reference points to an entry in the bundle. Returns findings; an empty list means valid.
 */
export function validateBundle(bundle: unknown): Hl7Finding[] {
  const c = new Checker();
  if (!isObject(bundle) || bundle.resourceType !== 'Bundle') {
    c.error('FHIR_NOT_A_BUNDLE', 'The value is not a FHIR Bundle.', 'resourceType');
    return c.findings;
  }
  if (typeof bundle.type !== 'string' || !BUNDLE_TYPES.has(bundle.type)) {
    c.error('FHIR_INVALID_CODE', 'Bundle.type is missing or not a bundle type.', 'type');
  }
  const { entry, ...rest } = bundle;
  for (const [key, value] of Object.entries(rest)) c.walk(value, key, key, 'Bundle', 'Bundle');
  if (entry === undefined) return c.findings;
  if (!Array.isArray(entry)) {
    c.error('FHIR_CARDINALITY', 'Bundle.entry must be an array.', 'entry');
    return c.findings;
  }
  const needsRequest = bundle.type === 'transaction' || bundle.type === 'batch' || bundle.type === 'history';
  const fullUrls = new Set<string>();
  const byTypeAndId = new Set<string>();

  entry.forEach((e, i) => {
    const path = `entry[${i}]`;
    if (!isObject(e)) {
      c.error('FHIR_EMPTY_ELEMENT', 'Bundle.entry items must be objects.', path);
      return;
    }
    if (typeof e.fullUrl !== 'string') {
      c.warning('FHIR_FULLURL_MISSING', 'Entry has no fullUrl; nothing can reference it.', `${path}.fullUrl`);
    } else {
      if (fullUrls.has(e.fullUrl))
        c.error('FHIR_DUPLICATE_FULLURL', 'fullUrl is not unique in the bundle (bdl-7).', `${path}.fullUrl`);
      fullUrls.add(e.fullUrl);
      if (!UUID_URN.test(e.fullUrl) && !OID_URN.test(e.fullUrl) && !ABSOLUTE_URL.test(e.fullUrl)) {
        c.error(
          'FHIR_INVALID_URI',
          'fullUrl must be an absolute URL, urn:uuid or urn:oid.',
          `${path}.fullUrl`,
        );
      }
    }
    if (needsRequest) {
      const request = e.request;
      if (!isObject(request) || typeof request.method !== 'string' || typeof request.url !== 'string') {
        c.error(
          'FHIR_REQUIRED_ELEMENT_MISSING',
          'Transaction and batch entries need request.method and request.url (bdl-3).',
          `${path}.request`,
        );
      } else if (!HTTP_VERBS.has(request.method)) {
        c.error('FHIR_INVALID_CODE', 'request.method is not an HTTP verb.', `${path}.request.method`);
      }
    } else if (
      e.request !== undefined &&
      bundle.type !== 'batch-response' &&
      bundle.type !== 'transaction-response'
    ) {
      c.error(
        'FHIR_INVARIANT',
        'request is only allowed in batch, transaction and history bundles (bdl-3).',
        `${path}.request`,
      );
    }
    const resource = e.resource;
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      c.error(
        'FHIR_REQUIRED_ELEMENT_MISSING',
        'Entry has no resource with a resourceType.',
        `${path}.resource`,
      );
      return;
    }
    if (typeof resource.id === 'string') byTypeAndId.add(`${resource.resourceType}/${resource.id}`);
    if (typeof e.fullUrl === 'string' && ABSOLUTE_URL.test(e.fullUrl) && typeof resource.id === 'string') {
      if (!e.fullUrl.endsWith(`/${resource.resourceType}/${resource.id}`)) {
        c.error('FHIR_INVARIANT', 'fullUrl does not end with the resource type and id.', `${path}.fullUrl`);
      }
    }
    const { entry: _nested, ...others } = e;
    c.walk(others, path, 'entry', 'entry', String(resource.resourceType));
    checkResource(c, resource, `${path}.resource`);
  });

  // References: every one must resolve to an entry, and to a resource type its element allows.
  const typeOf = new Map<string, string>();
  for (const e of entry) {
    if (isObject(e) && isObject(e.resource) && typeof e.fullUrl === 'string' && !typeOf.has(e.fullUrl)) {
      typeOf.set(e.fullUrl, String(e.resource.resourceType));
    }
  }
  const resolve = (reference: string): string | undefined => {
    const direct = typeOf.get(reference);
    if (direct) return direct;
    const m = RELATIVE_REFERENCE.exec(reference);
    return m && byTypeAndId.has(reference) ? m[1] : undefined;
  };
  entry.forEach((e, i) => {
    if (!isObject(e) || !isObject(e.resource)) return;
    const resource = e.resource;
    const path = `entry[${i}].resource`;
    const found: { path: string; reference: string }[] = [];
    references(resource, path, found);
    for (const ref of found) {
      if (ref.reference.startsWith('#')) continue;
      if (resolve(ref.reference) === undefined) {
        c.error(
          'FHIR_REFERENCE_UNRESOLVED',
          'Reference does not resolve to an entry of the bundle.',
          ref.path,
        );
      }
    }
    for (const [refPath, allowed] of REFERENCE_TARGETS[String(resource.resourceType)] ?? []) {
      for (const target of at(resource, refPath.split('.'))) {
        if (!isObject(target) || typeof target.reference !== 'string') continue;
        const targetType = resolve(target.reference);
        if (targetType !== undefined && !allowed.includes(targetType)) {
          c.error(
            'FHIR_REFERENCE_WRONG_TYPE',
            `${resource.resourceType}.${refPath} may not point to a ${targetType}.`,
            `${path}.${refPath}`,
          );
        }
      }
    }
  });
  return c.findings;
}
