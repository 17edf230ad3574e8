/**
 * OBX → Observation (code OBX-3, value OBX-5 by OBX-2 type with units OBX-6, reference range
 * OBX-7, interpretation OBX-8, status OBX-11, effective OBX-14, performer OBX-16, method OBX-17),
 * or → Attachment when OBX-2 is ED or RP (FHIR R4 Observation has no attachment value).
 */
import { DATA_ABSENT, INTERPRETATION, OBSERVATION_STATUS, UCUM, V3_INTERPRETATION } from './code-systems.js';
import type { ConversionContext } from './context.js';
import { codeableConcept, code as codeOf, text } from './datatypes.js';
import { hl7TimeToFhir, parseHl7Timestamp, toFhirDateTime } from './datetime.js';
import { Hl7ParseError } from './errors.js';
import type {
  Attachment,
  CodeableConcept,
  Observation,
  ObservationReferenceRange,
  Quantity,
  Reference,
} from './fhir-types.js';
import { practitionerRef } from './map-participants.js';
import { componentOf, type Hl7Repetition, type Hl7Segment } from './model.js';
import { isUcumUnit } from './ucum.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const COMPARATORS = new Set(['<', '<=', '>', '>=']);

/** Parses an HL7 NM value; undefined when it is not a plain decimal number. */
export function parseNumber(value: string): number | undefined {
  const v = value.trim();
  if (!NUMBER.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** OBX-6 → the unit half of a Quantity (UCUM system and code only when the unit parses as UCUM). */
export function unitOf(obx: Hl7Segment): Omit<Quantity, 'value' | 'comparator'> {
  const rep = obx.first(6);
  const unitCode = text(componentOf(rep, 1));
  const unitText = text(componentOf(rep, 2));
  const declared = text(componentOf(rep, 3)).toUpperCase();
  const out: Omit<Quantity, 'value' | 'comparator'> = {};
  const unit = unitText || unitCode;
  if (unit !== '') out.unit = unit;
  if (unitCode !== '' && (declared === 'UCUM' || isUcumUnit(unitCode))) {
    out.system = UCUM;
    out.code = unitCode;
  }
  return out;
}

function quantity(
  value: number,
  unit: Omit<Quantity, 'value' | 'comparator'>,
  comparator?: string,
): Quantity {
  const out: Quantity = { value };
  if (comparator && COMPARATORS.has(comparator)) out.comparator = comparator as Quantity['comparator'];
  return { ...out, ...unit };
}

const MIME_TOP: Record<string, string> = {
  AP: 'application',
  APPLICATION: 'application',
  AU: 'audio',
  AUDIO: 'audio',
  FT: 'text',
  TEXT: 'text',
  IM: 'image',
  IMAGE: 'image',
  NS: 'image',
  SI: 'image',
  SD: 'application',
  MULTIPART: 'multipart',
  VIDEO: 'video',
};

function contentType(type: string, subtype: string): string | undefined {
  const sub = text(subtype).toLowerCase();
  if (sub === 'octet-stream') return 'application/octet-stream';
  const top = MIME_TOP[text(type).toUpperCase()];
  return top && /^[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(sub) ? `${top}/${sub}` : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** ED or RP (first repetition of OBX-5) → Attachment; undefined when it says nothing. */
function attachmentOf(obx: Hl7Segment, valueType: string, title: string | undefined): Attachment | undefined {
  const rep = obx.first(5);
  const out: Attachment = {};
  if (valueType === 'RP') {
    const type = contentType(componentOf(rep, 3), componentOf(rep, 4));
    if (type) out.contentType = type;
    const pointer = componentOf(rep, 1).trim();
    if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(pointer)) out.url = pointer;
  } else {
    const type = contentType(componentOf(rep, 2), componentOf(rep, 3));
    if (type) out.contentType = type;
    const encoding = text(componentOf(rep, 4)).toUpperCase();
    const raw = componentOf(rep, 5);
    let data: string | undefined;
    if (encoding === 'BASE64') {
      const compact = raw.replace(/\s+/g, '');
      if (compact !== '' && BASE64.test(compact)) data = compact;
    } else if (encoding === 'A' && raw !== '') {
      data = Buffer.from(raw, 'utf8').toString('base64');
    } else if (encoding === 'HEX' && /^(?:[0-9A-Fa-f]{2})+$/.test(raw.trim())) {
      data = Buffer.from(raw.trim(), 'hex').toString('base64');
    }
    if (data !== undefined) {
      out.data = data;
      out.contentType ??= 'application/octet-stream';
    }
  }
  if (title !== undefined) out.title = title;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** OBX-5 joined back into text (components and subcomponents with their delimiters, repetitions with newlines). */
function joinedText(ctx: ConversionContext, reps: Hl7Repetition[]): string {
  const { component, subcomponent } = ctx.message.encoding;
  return reps.map((rep) => rep.map((comp) => comp.join(subcomponent)).join(component)).join('\n');
}

function referenceRange(obx: Hl7Segment, unit: Omit<Quantity, 'value' | 'comparator'> | undefined) {
  const rangeText =
    obx.field(7).repetitions.length > 0 ? componentOf(obx.field(7).repetitions[0], 1).trim() : '';
  if (rangeText === '') return undefined;
  const out: ObservationReferenceRange = {};
  if (unit) {
    const between = /^(-?[\d.]+)\s*-\s*(-?[\d.]+)$/.exec(rangeText);
    const bound = /^(<=?|>=?)\s*(-?[\d.]+)$/.exec(rangeText);
    const low = parseNumber(between?.[1] ?? '');
    const high = parseNumber(between?.[2] ?? '');
    const limit = parseNumber(bound?.[2] ?? '');
    if (low !== undefined && high !== undefined && low <= high) {
      out.low = quantity(low, unit);
      out.high = quantity(high, unit);
    } else if (bound && limit !== undefined) {
      if (bound[1]!.startsWith('<')) out.high = quantity(limit, unit);
      else out.low = quantity(limit, unit);
    }
  }
  out.text = rangeText;
  return [out];
}

function interpretation(ctx: ConversionContext, obx: Hl7Segment): CodeableConcept[] {
  return obx.repetitions(8).flatMap((rep): CodeableConcept | CodeableConcept[] => {
    const raw = text(componentOf(rep, 1) || componentOf(rep, 4));
    const system = text(componentOf(rep, 3));
    const display = INTERPRETATION[raw];
    if (display !== undefined && (system === '' || /^HL7/i.test(system))) {
      return [{ coding: [{ system: V3_INTERPRETATION, code: raw, display }] }];
    }
    return codeableConcept(rep, ctx) ?? [];
  });
}

/** Sets value[x] from OBX-2/OBX-5; returns the unit used, for the reference range. */
function setValue(ctx: ConversionContext, obx: Hl7Segment, valueType: string, obs: Observation) {
  const reps = obx.repetitions(5);
  const first = reps[0];
  if (!first) return undefined;
  const where = ctx.path(obx, 5);
  const asString = () => {
    const value = joinedText(ctx, reps).trim();
    if (value !== '') obs.valueString = value;
  };
  if (reps.length > 1 && !['ST', 'TX', 'FT'].includes(valueType)) {
    ctx.finding(
      'warning',
      'HL7_REPEATED_VALUE',
      `OBX-5 repeats for type ${valueType}; only the first repetition was converted.`,
      where,
    );
  }
  switch (valueType) {
    case 'NM': {
      const unit = unitOf(obx);
      const n = parseNumber(componentOf(first, 1));
      if (n === undefined) {
        ctx.finding(
          'warning',
          'HL7_INVALID_NUMBER',
          'OBX-5 is not a number for type NM; kept as text.',
          where,
        );
        asString();
        return undefined;
      }
      obs.valueQuantity = quantity(n, unit);
      return unit;
    }
    case 'SN': {
      const unit = unitOf(obx);
      const comparator = componentOf(first, 1).trim();
      const n1 = parseNumber(componentOf(first, 2));
      const separator = componentOf(first, 3).trim();
      const rawN2 = componentOf(first, 4).trim();
      const n2 = parseNumber(rawN2);
      if (
        n1 !== undefined &&
        separator === '' &&
        rawN2 === '' &&
        (comparator === '' || comparator === '=' || COMPARATORS.has(comparator))
      ) {
        obs.valueQuantity = quantity(n1, unit, comparator);
        return unit;
      }
      if (n1 !== undefined && n2 !== undefined && comparator === '' && separator === '-') {
        obs.valueRange = { low: quantity(n1, unit), high: quantity(n2, unit) };
        return unit;
      }
      if (
        n1 !== undefined &&
        n2 !== undefined &&
        comparator === '' &&
        (separator === ':' || separator === '/')
      ) {
        obs.valueRatio = { numerator: { value: n1 }, denominator: { value: n2 } };
        return undefined;
      }
      const parts = [comparator, componentOf(first, 2).trim(), separator, rawN2].join('');
      if (parts !== '') obs.valueString = parts;
      return undefined;
    }
    case 'ST':
    case 'TX':
    case 'FT':
      asString();
      return undefined;
    case 'CE':
    case 'CWE':
    case 'CNE':
    case 'CF': {
      const concept = codeableConcept(first, ctx);
      if (concept) obs.valueCodeableConcept = concept;
      return undefined;
    }
    case 'ID':
    case 'IS': {
      const c = codeOf(componentOf(first, 1));
      if (c !== undefined) obs.valueCodeableConcept = { coding: [{ code: c }] };
      return undefined;
    }
    case 'DT':
    case 'DTM':
    case 'TS': {
      const parsed = parseHl7Timestamp(componentOf(first, 1));
      if (parsed.kind === 'ok') {
        const { value, timeDropped } = toFhirDateTime(parsed.value, ctx.implicitOffset);
        obs.valueDateTime = value;
        if (timeDropped) {
          ctx.finding(
            'info',
            'HL7_TIME_WITHOUT_OFFSET',
            'OBX-5 has a time but no UTC offset; only the date was kept.',
            where,
          );
        }
      } else {
        ctx.finding('warning', 'HL7_INVALID_DATE', 'OBX-5 is not a valid HL7 date and was left out.', where);
      }
      return undefined;
    }
    case 'TM': {
      const time = hl7TimeToFhir(componentOf(first, 1));
      if (time !== undefined) obs.valueTime = time;
      else
        ctx.finding('warning', 'HL7_INVALID_TIME', 'OBX-5 is not a valid HL7 time and was left out.', where);
      return undefined;
    }
    default: {
      ctx.finding(
        'info',
        'HL7_VALUE_AS_STRING',
        valueType === ''
          ? 'OBX-2 is empty; OBX-5 kept as text.'
          : 'OBX-2 names a type without a FHIR value mapping; OBX-5 kept as text.',
        ctx.path(obx, 2),
      );
      const value = first
        .flat()
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .join(' ');
      if (value !== '') obs.valueString = value;
      return undefined;
    }
  }
}

/** Where an OBX sits: its patient, encounter and, in ORU, the OBR-7 time results default to. */
export interface ObxGroup {
  subject: Reference;
  encounter?: Reference;
  fallbackEffective?: string;
}

/** What one OBX became. */
export type ObxResult =
  | { kind: 'observation'; reference: Reference; resource: Observation }
  | { kind: 'attachment'; attachment: Attachment; status: string; code?: CodeableConcept }
  | { kind: 'none' };

/** Maps one OBX. Throws {@link Hl7ParseError} when a non-attachment OBX has no OBX-3. */
export function mapObx(ctx: ConversionContext, obx: Hl7Segment, group: ObxGroup): ObxResult {
  const valueType = text(obx.value(2)).toUpperCase();
  const code = codeableConcept(obx.first(3), ctx);
  const statusCode = text(obx.value(11)).toUpperCase();

  if (valueType === 'ED' || valueType === 'RP') {
    const title = code?.text ?? code?.coding?.[0]?.display;
    const attachment = attachmentOf(obx, valueType, title);
    if (!attachment) {
      ctx.finding(
        'warning',
        'HL7_EMPTY_ATTACHMENT',
        'OBX-5 holds no usable attachment; OBX skipped.',
        ctx.path(obx, 5),
      );
      return { kind: 'none' };
    }
    return code
      ? { kind: 'attachment', attachment, status: statusCode, code }
      : { kind: 'attachment', attachment, status: statusCode };
  }
  if (!code) {
    throw new Hl7ParseError('WARD_HL7_MISSING_FIELD', 'OBX-3 (observation identifier) is missing', {
      segment: 'OBX',
      field: 'OBX-3',
      segmentIndex: obx.index,
    });
  }

  let status = OBSERVATION_STATUS[statusCode];
  if (!status) {
    status = 'unknown';
    ctx.finding(
      'warning',
      statusCode === '' ? 'HL7_MISSING_FIELD' : 'HL7_UNKNOWN_CODE',
      statusCode === ''
        ? 'OBX-11 (result status) is empty; status set to unknown.'
        : 'OBX-11 is not a table 0085 code; status set to unknown.',
      ctx.path(obx, 11),
    );
  }
  const obs: Observation = { resourceType: 'Observation', status, code, subject: group.subject };
  if (group.encounter) obs.encounter = group.encounter;
  const effective = ctx.dateTime(obx, 14) ?? group.fallbackEffective;
  if (effective !== undefined) obs.effectiveDateTime = effective;
  const performers = obx.repetitions(16).flatMap((rep) => practitionerRef(ctx, rep) ?? []);
  if (performers.length > 0) obs.performer = performers;

  const unit = setValue(ctx, obx, valueType, obs);
  const hasValue = Object.keys(obs).some((k) => k.startsWith('value'));
  if (!hasValue && statusCode === 'N') {
    obs.dataAbsentReason = { coding: [{ system: DATA_ABSENT, code: 'not-asked', display: 'Not Asked' }] };
  }
  const interpretations = interpretation(ctx, obx);
  if (interpretations.length > 0) obs.interpretation = interpretations;
  const method = codeableConcept(obx.first(17), ctx);
  if (method) obs.method = method;
  const range = referenceRange(obx, unit);
  if (range) obs.referenceRange = range;

  const reference = ctx.add(`Observation|${obx.index}`, () => obs);
  return { kind: 'observation', reference, resource: ctx.resourceOf(reference) as Observation };
}
