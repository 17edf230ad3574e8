/**
 * HL7 v2 message → FHIR R4 Bundle. Walks the segments in order, keeping the patient, visit and
 * order group each OBX/AL1/DG1 belongs to, and builds a deterministic bundle.
 */
import { ConversionContext } from './context.js';
import { parseHl7Timestamp } from './datetime.js';
import { Hl7ParseError } from './errors.js';
import type {
  Attachment,
  CodeableConcept,
  DocumentReference,
  FhirBundle,
  Observation,
  Reference,
} from './fhir-types.js';
import { mapAllergy } from './map-allergy.js';
import { mapCondition } from './map-condition.js';
import { hasVisit, mapEncounter } from './map-encounter.js';
import { mapObx } from './map-observation.js';
import { mapPatient } from './map-patient.js';
import { mapReport, type ReportGroup } from './map-report.js';
import { componentOf, type Hl7Message, type Hl7Segment } from './model.js';
import { parseHl7 } from './parser.js';
import type { ConvertHl7Options, ConvertHl7Result } from './types.js';
import { validateBundle } from './validate.js';

/**
 * Message types converted, by MSH-9.1 → MSH-9.2. ADT and ORU^R01 are converted in full; order and
 * document messages (ORM, OML, RDE, MDM) have their PID, PV1, AL1, DG1 and OBX converted (their OBR
 * is an order, not a report). ADT merges and swaps (A17, A18, A34, A40…) are rejected: a plain
 * bundle cannot express them.
 */
export const SUPPORTED_MESSAGE_TYPES: Readonly<Record<string, readonly string[]>> = {
  ADT: ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A11', 'A12', 'A13', 'A28', 'A31'],
  ORU: ['R01'],
  ORM: ['O01'],
  OML: ['O21'],
  RDE: ['O11'],
  MDM: ['T01', 'T02', 'T03', 'T04', 'T05', 'T06', 'T07', 'T08', 'T09', 'T10', 'T11'],
};

/** Segments the walk understands (converted, or used for grouping). */
const HANDLED = new Set(['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'OBX', 'NTE', 'SPM', 'TXA', 'AL1', 'DG1']);

const DOC_STATUS: Record<string, DocumentReference['docStatus']> = {
  F: 'final',
  C: 'amended',
  A: 'amended',
  P: 'preliminary',
  W: 'entered-in-error',
  D: 'entered-in-error',
};

/** Appends to an optional list in place, creating it when absent. */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (!list) return [item];
  list.push(item);
  return list;
}

function checkMessageType(message: Hl7Message): void {
  const code = message.messageCode.toUpperCase();
  const trigger = message.triggerEvent.toUpperCase();
  const supported = SUPPORTED_MESSAGE_TYPES[code];
  const where = { segment: 'MSH', field: 'MSH-9', segmentIndex: 0 };
  if (supported && trigger === '') {
    throw new Hl7ParseError('WARD_HL7_MISSING_MESSAGE_TYPE', 'the trigger event (MSH-9.2) is missing', where);
  }
  if (!supported?.includes(trigger)) {
    // MSH-9 is echoed only when it has the shape of a message type, never arbitrary text.
    const shown =
      /^[A-Z0-9]{3}$/.test(code) && /^[A-Z0-9]{2,3}$/.test(trigger)
        ? `${code}^${trigger}`
        : 'this message type';
    throw new Hl7ParseError('WARD_HL7_UNSUPPORTED_MESSAGE_TYPE', `${shown} is not supported`, where);
  }
}

function documentReference(
  ctx: ConversionContext,
  obx: Hl7Segment,
  attachment: Attachment,
  statusCode: string,
  code: CodeableConcept | undefined,
  subject: Reference,
  encounter: Reference | undefined,
): void {
  const status = statusCode === 'W' || statusCode === 'D' ? 'entered-in-error' : 'current';
  const docStatus = DOC_STATUS[statusCode];
  const date = obx.value(14) === '' ? undefined : ctx.instant(obx, 14);
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    status,
    ...(docStatus ? { docStatus } : {}),
    ...(code ? { type: code } : {}),
    subject,
    ...(date === undefined ? {} : { date }),
    content: [{ attachment }],
    ...(encounter ? { context: { encounter: [encounter] } } : {}),
  };
  ctx.add(`DocumentReference|${obx.index}`, () => doc);
}

function convert(
  text: string,
  options: ConvertHl7Options,
  track: { segment?: Hl7Segment },
): ConvertHl7Result {
  const message = parseHl7(text, options.maxLength === undefined ? {} : { maxLength: options.maxLength });
  checkMessageType(message);
  const msh = message.segments[0]!;
  if (parseHl7Timestamp(msh.value(7)).kind === 'invalid') {
    throw new Hl7ParseError('WARD_HL7_INVALID_DATE', 'MSH-7 is not a valid HL7 date', {
      segment: 'MSH',
      field: 'MSH-7',
      segmentIndex: 0,
    });
  }
  const firstPid = message.segments.find((s) => s.name === 'PID');
  if (!firstPid) {
    throw new Hl7ParseError(
      'WARD_HL7_MISSING_SEGMENT',
      'the message has no PID segment (patient identification)',
      {
        segment: 'PID',
        field: 'PID-3',
      },
    );
  }
  const ctx = new ConversionContext(message, options);
  const isResult = message.messageCode.toUpperCase() === 'ORU';

  track.segment = firstPid;
  let patient = mapPatient(ctx, firstPid);
  let encounter: Reference | undefined;
  let report: ReportGroup | undefined;
  let obrEffective: string | undefined;
  let inSpecimen = false;
  let lastObservation: Observation | undefined;
  const skipped = new Set<string>();

  for (const seg of message.segments) {
    track.segment = seg;
    switch (seg.name) {
      case 'PID':
        if (seg !== firstPid) patient = mapPatient(ctx, seg);
        encounter = undefined;
        report = undefined;
        obrEffective = undefined;
        inSpecimen = false;
        break;
      case 'PV1':
        if (hasVisit(seg)) encounter = mapEncounter(ctx, seg, patient);
        break;
      case 'ORC':
      case 'TXA':
        report = undefined;
        obrEffective = undefined;
        inSpecimen = false;
        break;
      case 'OBR':
        inSpecimen = false;
        report = isResult ? mapReport(ctx, seg, patient, encounter) : undefined;
        obrEffective = report?.effective;
        break;
      case 'SPM':
        inSpecimen = true;
        break;
      case 'OBX': {
        const group = { subject: patient, ...(encounter ? { encounter } : {}) };
        const result = mapObx(
          ctx,
          seg,
          obrEffective === undefined ? group : { ...group, fallbackEffective: obrEffective },
        );
        const inReport = report !== undefined && !inSpecimen ? report.resource : undefined;
        if (result.kind === 'observation') {
          if (inReport) inReport.result = append(inReport.result, result.reference);
          lastObservation = result.resource;
        } else if (result.kind === 'attachment') {
          if (inReport) inReport.presentedForm = append(inReport.presentedForm, result.attachment);
          else documentReference(ctx, seg, result.attachment, result.status, result.code, patient, encounter);
        }
        break;
      }
      case 'NTE': {
        const note = seg
          .field(3)
          .repetitions.map((rep) => componentOf(rep, 1))
          .join('\n')
          .trim();
        if (lastObservation && note !== '')
          lastObservation.note = append(lastObservation.note, { text: note });
        break;
      }
      case 'AL1':
        mapAllergy(ctx, seg, patient, encounter);
        break;
      case 'DG1':
        mapCondition(ctx, seg, patient, encounter);
        break;
      default:
        if (!HANDLED.has(seg.name)) skipped.add(seg.name);
    }
    // NTE notes attach to the OBX before them, across the PRT and Z segments that may sit between.
    if (seg.name !== 'OBX' && seg.name !== 'NTE' && seg.name !== 'PRT' && !seg.name.startsWith('Z')) {
      lastObservation = undefined;
    }
  }
  track.segment = undefined;

  if (skipped.size > 0) {
    ctx.finding(
      'info',
      'HL7_SEGMENTS_NOT_CONVERTED',
      `Segments without a mapping in this converter were not converted: ${[...skipped].join(', ')}.`,
    );
  }
  const bundleType = options.bundleType ?? 'transaction';
  const bundle: FhirBundle = { resourceType: 'Bundle', id: ctx.idFor('Bundle'), type: bundleType, entry: [] };
  const timestamp = msh.value(7) === '' ? undefined : ctx.instant(msh, 7);
  if (timestamp !== undefined) bundle.timestamp = timestamp;
  bundle.entry = ctx.entries.map(({ fullUrl, resource }) =>
    bundleType === 'transaction'
      ? { fullUrl, resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }
      : { fullUrl, resource },
  );
  const findings = [...message.findings, ...ctx.findings];
  if (options.validate !== false) findings.push(...validateBundle(bundle));
  return { bundle, findings };
}

/**
 * Converts one HL7 v2.x message (ADT^A01/A02/A03/A04/A05/A06/A07/A08/A11/A12/A13/A28/A31,
 * ORU^R01; PID/PV1/AL1/DG1/OBX of ORM^O01, OML^O21, RDE^O11, MDM^T01-T11) to a FHIR R4 Bundle with
 * deterministic ids. `findings` lists what was dropped or assumed, plus {@link validateBundle}'s
 * verdict. Throws {@link Hl7ParseError} — and nothing else — for input it cannot convert.
 */
export function convertHl7ToFhir(message: string, options: ConvertHl7Options = {}): ConvertHl7Result {
  const track: { segment?: Hl7Segment } = {};
  try {
    return convert(message, options, track);
  } catch (error) {
    if (error instanceof Hl7ParseError) throw error;
    const seg = track.segment;
    throw new Hl7ParseError('WARD_HL7_CONVERSION_FAILED', 'the message could not be converted', {
      segment: seg?.name ?? 'MSH',
      field: seg ? `${seg.name}-1` : 'MSH-1',
      ...(seg ? { segmentIndex: seg.index } : {}),
      cause: error,
    });
  }
}
