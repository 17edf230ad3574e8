/**
 * HL7 v2 composite data types → FHIR data types (CWE, CX, EI, HD, XPN, XAD, XTN, XCN, PL), following
 * the v2-to-FHIR IG datatype maps.
 */
import {
  ADDRESS_TYPE,
  ADDRESS_USE,
  codingSystemUri,
  KNOWN_AUTHORITIES,
  NAME_USE,
  TELECOM_EQUIPMENT,
  TELECOM_USE,
  V2_0203,
  v2Table,
} from './code-systems.js';
import { parseHl7Timestamp, toFhirDateTime } from './datetime.js';
import type {
  Address,
  CodeableConcept,
  Coding,
  ContactPoint,
  HumanName,
  Identifier,
  Period,
} from './fhir-types.js';
import { componentOf, type Hl7Repetition } from './model.js';

/** Context the datatype maps need. */
export interface DatatypeContext {
  codeSystems: Record<string, string>;
  authorities: Record<string, string>;
  implicitOffset: string | undefined;
}

/** Trimmed leaf with runs of whitespace collapsed (FHIR `code` and `uri` forbid leading/trailing space). */
export function text(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** A FHIR `code` value, or undefined when empty. */
export function code(value: string): string | undefined {
  const out = text(value);
  return out === '' ? undefined : out;
}

function nonEmpty(value: string): string | undefined {
  const out = value.trim();
  return out === '' ? undefined : out;
}

function compactPeriod(start: string | undefined, end: string | undefined): Period | undefined {
  if (start === undefined && end === undefined) return undefined;
  const period: Period = {};
  if (start !== undefined) period.start = start;
  if (end !== undefined) period.end = end;
  return period;
}

/** A lenient DTM → dateTime for datatype components (invalid or offset-less times are simply skipped). */
function componentDateTime(value: string, ctx: DatatypeContext): string | undefined {
  const parsed = parseHl7Timestamp(value);
  if (parsed.kind !== 'ok') return undefined;
  const { value: out, timeDropped } = toFhirDateTime(parsed.value, ctx.implicitOffset);
  return timeDropped ? undefined : out;
}

function periodFrom(start: string, end: string, ctx: DatatypeContext): Period | undefined {
  return compactPeriod(componentDateTime(start, ctx), componentDateTime(end, ctx));
}

function coding(codeValue: string, display: string, system: string, version: string, ctx: DatatypeContext) {
  const c = code(codeValue);
  if (c === undefined) return undefined;
  const out: Coding = {};
  const uri = codingSystemUri(system, ctx.codeSystems);
  if (uri !== undefined) out.system = uri;
  const v = nonEmpty(version);
  if (v !== undefined && uri !== undefined) out.version = v;
  out.code = c;
  const d = nonEmpty(display);
  if (d !== undefined) out.display = d;
  return out;
}

/** Options for {@link codeableConcept}. */
export interface CweOptions {
  /** HL7 table whose system applies when CWE.3 is empty, e.g. `0007`. */
  table?: string;
  /** Text to use when CWE.9 is empty. */
  fallbackText?: string;
}

/**
 * CWE/CE/CNE/IS/ID → CodeableConcept: CWE.1-3 (+7) and CWE.4-6 (+8) as codings, CWE.9 (or CWE.2
 * when nothing is coded) as text. Undefined when the repetition holds nothing.
 */
export function codeableConcept(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
  options: CweOptions = {},
): CodeableConcept | undefined {
  if (!rep) return undefined;
  const defaultSystem = options.table ? v2Table(options.table) : '';
  const primarySystem = componentOf(rep, 3) || defaultSystem;
  const codings: Coding[] = [];
  const primary = coding(componentOf(rep, 1), componentOf(rep, 2), primarySystem, componentOf(rep, 7), ctx);
  if (primary) codings.push(primary);
  const alternate = coding(
    componentOf(rep, 4),
    componentOf(rep, 5),
    componentOf(rep, 6),
    componentOf(rep, 8),
    ctx,
  );
  if (alternate) codings.push(alternate);
  const out: CodeableConcept = {};
  if (codings.length > 0) out.coding = codings;
  const original = nonEmpty(componentOf(rep, 9)) ?? nonEmpty(options.fallbackText ?? '');
  const textValue =
    original ??
    (codings.length === 0 ? (nonEmpty(componentOf(rep, 2)) ?? nonEmpty(componentOf(rep, 5))) : undefined);
  if (textValue !== undefined) out.text = textValue;
  return out.coding || out.text ? out : undefined;
}

/** First code of a CWE (CWE.1, else CWE.4), upper-cased, for table lookups. */
export function cweCode(rep: Hl7Repetition | undefined): string {
  return text(componentOf(rep, 1) || componentOf(rep, 4)).toUpperCase();
}

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * HD (namespace, universal id, universal id type) → Identifier.system: configured or well-known
 * namespace, `urn:oid:` for ISO OIDs, `urn:uuid:` for UUIDs, the id itself for URIs.
 */
export function systemFromHd(namespace: string, universalId: string, idType: string, ctx: DatatypeContext) {
  const ns = text(namespace);
  if (ns !== '') {
    const known = ctx.authorities[ns] ?? KNOWN_AUTHORITIES[ns.toUpperCase()];
    if (known) return known;
  }
  const id = text(universalId);
  const type = text(idType).toUpperCase();
  if (id !== '') {
    if (type === 'ISO' && OID.test(id)) return `urn:oid:${id}`;
    if ((type === 'UUID' || type === 'GUID') && UUID.test(id)) return `urn:uuid:${id.toLowerCase()}`;
    if ((type === 'URI' || type === 'URL') && /^[a-z][a-z0-9+.-]*:\S+$/i.test(id)) return id;
  }
  return undefined;
}

function identifierType(codeValue: string): CodeableConcept | undefined {
  const c = code(codeValue);
  return c === undefined ? undefined : { coding: [{ system: V2_0203, code: c }] };
}

/** CX → Identifier (CX.1 value, CX.4 system/assigner, CX.5 type, CX.7-8 period). */
export function identifierFromCx(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
  defaultType?: string,
): Identifier | undefined {
  const value = nonEmpty(componentOf(rep, 1));
  if (!rep || value === undefined) return undefined;
  const out: Identifier = {};
  const type = identifierType(componentOf(rep, 5) || (defaultType ?? ''));
  if (type) out.type = type;
  const system = systemFromHd(componentOf(rep, 4, 1), componentOf(rep, 4, 2), componentOf(rep, 4, 3), ctx);
  if (system) out.system = system;
  out.value = value;
  const period = periodFrom(componentOf(rep, 7), componentOf(rep, 8), ctx);
  if (period) out.period = period;
  const assigner = nonEmpty(componentOf(rep, 4, 1));
  if (assigner !== undefined && system === undefined) out.assigner = { display: assigner };
  return out;
}

/** EI → Identifier (EI.1 value, EI.2-4 system), with an optional v2-0203 type code. */
export function identifierFromEi(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
  typeCode?: string,
): Identifier | undefined {
  const value = nonEmpty(componentOf(rep, 1));
  if (!rep || value === undefined) return undefined;
  const out: Identifier = {};
  const type = typeCode ? identifierType(typeCode) : undefined;
  if (type) out.type = type;
  const system = systemFromHd(componentOf(rep, 2), componentOf(rep, 3), componentOf(rep, 4), ctx);
  if (system) out.system = system;
  out.value = value;
  const assigner = nonEmpty(componentOf(rep, 2));
  if (assigner !== undefined && system === undefined) out.assigner = { display: assigner };
  return out;
}

/** Name parts shared by XPN (patient) and XCN (practitioner, components shifted by one). */
function humanName(
  family: string,
  given: string[],
  suffix: string[],
  prefix: string,
  typeCode: string,
  period: Period | undefined,
): HumanName | undefined {
  const out: HumanName = {};
  const use = NAME_USE[text(typeCode).toUpperCase()];
  if (use) out.use = use;
  const f = nonEmpty(family);
  if (f !== undefined) out.family = f;
  const g = given.map((x) => x.trim()).filter((x) => x !== '');
  if (g.length > 0) out.given = g;
  const p = nonEmpty(prefix);
  if (p !== undefined) out.prefix = [p];
  const s = suffix.map((x) => x.trim()).filter((x) => x !== '');
  if (s.length > 0) out.suffix = s;
  if (period) out.period = period;
  return out.family || out.given ? out : undefined;
}

/**
 * XPN → HumanName: XPN.1.1 family, XPN.2-3 given, XPN.5 prefix, XPN.4 and XPN.6 suffixes, XPN.7
 * use, XPN.12-13 (else XPN.10 range) period.
 */
export function humanNameFromXpn(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
): HumanName | undefined {
  if (!rep) return undefined;
  const period =
    periodFrom(componentOf(rep, 12), componentOf(rep, 13), ctx) ??
    periodFrom(componentOf(rep, 10, 1), componentOf(rep, 10, 2), ctx);
  return humanName(
    componentOf(rep, 1, 1),
    [componentOf(rep, 2), componentOf(rep, 3)],
    [componentOf(rep, 4), componentOf(rep, 6)],
    componentOf(rep, 5),
    componentOf(rep, 7),
    period,
  );
}

/** XCN name part: XCN.2.1 family, XCN.3-4 given, XCN.6 prefix, XCN.5 and XCN.7 suffixes, XCN.10 use. */
export function humanNameFromXcn(rep: Hl7Repetition | undefined): HumanName | undefined {
  if (!rep) return undefined;
  return humanName(
    componentOf(rep, 2, 1),
    [componentOf(rep, 3), componentOf(rep, 4)],
    [componentOf(rep, 5), componentOf(rep, 7)],
    componentOf(rep, 6),
    componentOf(rep, 10),
    undefined,
  );
}

/** XCN identifier part: XCN.1 value, XCN.9 system, XCN.13 type. */
export function identifierFromXcn(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
): Identifier | undefined {
  const value = nonEmpty(componentOf(rep, 1));
  if (!rep || value === undefined) return undefined;
  const out: Identifier = {};
  const type = identifierType(componentOf(rep, 13));
  if (type) out.type = type;
  const system = systemFromHd(componentOf(rep, 9, 1), componentOf(rep, 9, 2), componentOf(rep, 9, 3), ctx);
  if (system) out.system = system;
  out.value = value;
  const assigner = nonEmpty(componentOf(rep, 9, 1));
  if (assigner !== undefined && system === undefined) out.assigner = { display: assigner };
  return out;
}

/**
 * XAD → Address: SAD.1 (or SAD.3 + SAD.2) and XAD.2 lines, XAD.3 city, XAD.4 state, XAD.5 postal
 * code, XAD.6 country, XAD.7 use/type, XAD.13-14 (else XAD.12 range) period.
 */
export function addressFromXad(rep: Hl7Repetition | undefined, ctx: DatatypeContext): Address | undefined {
  if (!rep) return undefined;
  const street =
    nonEmpty(componentOf(rep, 1, 1)) ??
    nonEmpty(`${componentOf(rep, 1, 3).trim()} ${componentOf(rep, 1, 2).trim()}`);
  const line = [street, nonEmpty(componentOf(rep, 2))].filter((x): x is string => x !== undefined);
  const out: Address = {};
  const typeCode = text(componentOf(rep, 7)).toUpperCase();
  const use = ADDRESS_USE[typeCode];
  if (use) out.use = use;
  const type = ADDRESS_TYPE[typeCode];
  if (type) out.type = type;
  if (line.length > 0) out.line = line;
  const city = nonEmpty(componentOf(rep, 3));
  if (city !== undefined) out.city = city;
  const state = nonEmpty(componentOf(rep, 4));
  if (state !== undefined) out.state = state;
  const postalCode = nonEmpty(componentOf(rep, 5));
  if (postalCode !== undefined) out.postalCode = postalCode;
  const country = nonEmpty(componentOf(rep, 6));
  if (country !== undefined) out.country = country;
  const period =
    periodFrom(componentOf(rep, 13), componentOf(rep, 14), ctx) ??
    periodFrom(componentOf(rep, 12, 1), componentOf(rep, 12, 2), ctx);
  if (period) out.period = period;
  return out.line || out.city || out.state || out.postalCode || out.country ? out : undefined;
}

/**
 * XTN → ContactPoint. Email (XTN.3 Internet/X.400 or XTN.2 NET) takes XTN.4; phones take XTN.12,
 * else the number built from XTN.5-8, else XTN.1. XTN.2/3 give use and system (`defaultUse` when
 * XTN.2 is empty), XTN.13-14 the period, XTN.18 the rank.
 */
export function contactPointFromXtn(
  rep: Hl7Repetition | undefined,
  ctx: DatatypeContext,
  defaultUse: 'home' | 'work',
): ContactPoint | undefined {
  if (!rep) return undefined;
  const useCode = text(componentOf(rep, 2)).toUpperCase();
  const equipment = text(componentOf(rep, 3)).toUpperCase();
  let system = TELECOM_EQUIPMENT[equipment];
  if (useCode === 'NET') system = 'email';
  if (system === 'email') {
    const value = nonEmpty(componentOf(rep, 4)) ?? nonEmpty(componentOf(rep, 1));
    if (value === undefined) return undefined;
    return withCommon({ system, value }, rep, ctx, TELECOM_USE[useCode]);
  }
  const [cc, area, local, ext] = [5, 6, 7, 8].map((c) => componentOf(rep, c).trim());
  const built = local
    ? `${cc ? `+${cc} ` : ''}${area ? `(${area}) ` : ''}${local}${ext ? ` ext. ${ext}` : ''}`
    : undefined;
  const value = nonEmpty(componentOf(rep, 12)) ?? built ?? nonEmpty(componentOf(rep, 1));
  if (value === undefined) return undefined;
  if (system === undefined) system = value.includes('@') ? 'email' : 'phone';
  const use =
    equipment === 'CP' ? 'mobile' : (TELECOM_USE[useCode] ?? (useCode === '' ? defaultUse : undefined));
  return withCommon({ system, value }, rep, ctx, use);
}

function withCommon(
  point: ContactPoint,
  rep: Hl7Repetition,
  ctx: DatatypeContext,
  use: ContactPoint['use'] | undefined,
): ContactPoint {
  if (use) point.use = use;
  const rank = componentOf(rep, 18).trim();
  if (/^[1-9]\d{0,8}$/.test(rank)) point.rank = Number(rank);
  const period = periodFrom(componentOf(rep, 13), componentOf(rep, 14), ctx);
  if (period) point.period = period;
  return point;
}

/** PL → location name parts (facility, building, floor, point of care, room, bed) and description. */
export interface LocationParts {
  name: string;
  description?: string;
  physicalType?: 'bd' | 'ro' | 'wa' | 'lvl' | 'bu';
}

/** PL → the parts of a Location; undefined when empty. */
export function locationFromPl(rep: Hl7Repetition | undefined): LocationParts | undefined {
  if (!rep) return undefined;
  const facility = text(componentOf(rep, 4, 1));
  const building = text(componentOf(rep, 7));
  const floor = text(componentOf(rep, 8));
  const pointOfCare = text(componentOf(rep, 1, 1));
  const room = text(componentOf(rep, 2, 1));
  const bed = text(componentOf(rep, 3, 1));
  const name = [facility, building, floor, pointOfCare, room, bed].filter((x) => x !== '').join(', ');
  if (name === '') return undefined;
  const out: LocationParts = { name };
  const description = nonEmpty(componentOf(rep, 9));
  if (description !== undefined) out.description = description;
  const physicalType = bed
    ? 'bd'
    : room
      ? 'ro'
      : pointOfCare
        ? 'wa'
        : floor
          ? 'lvl'
          : building
            ? 'bu'
            : undefined;
  if (physicalType) out.physicalType = physicalType;
  return out;
}
