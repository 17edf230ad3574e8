/**
 * PV1 → Encounter: class (PV1-2), status (trigger event, PV1-45, PV1-2), period (PV1-44/45),
 * visit number (PV1-19), location (PV1-3), participants (PV1-7/8/9/17), type and service.
 */
import {
  ADT_EVENT_STATUS,
  PATIENT_CLASS,
  PATIENT_CLASS_STATUS,
  V3_NULL_FLAVOR,
  V3_PARTICIPATION,
  v2Table,
} from './code-systems.js';
import type { ConversionContext } from './context.js';
import { code, codeableConcept, cweCode, identifierFromCx } from './datatypes.js';
import type { Encounter, EncounterParticipant, Reference } from './fhir-types.js';
import { locationRef, practitionerRef } from './map-participants.js';
import type { Hl7Segment } from './model.js';

const PARTICIPANTS: [field: number, code: string, display: string][] = [
  [7, 'ATND', 'attender'],
  [8, 'REF', 'referrer'],
  [9, 'CON', 'consultant'],
  [17, 'ADM', 'admitter'],
];

/** True when PV1 says anything about a visit (a lone `PV1|1|N` does not). */
export function hasVisit(pv1: Hl7Segment): boolean {
  const patientClass = cweCode(pv1.first(2));
  return (
    (patientClass !== '' && patientClass !== 'N') ||
    pv1.first(3) !== undefined ||
    pv1.first(19) !== undefined ||
    pv1.value(44) !== ''
  );
}

function encounterStatus(
  ctx: ConversionContext,
  classCode: string,
  discharged: boolean,
): Encounter['status'] {
  const { messageCode, triggerEvent } = ctx.message;
  const event =
    messageCode.toUpperCase() === 'ADT' ? ADT_EVENT_STATUS[triggerEvent.toUpperCase()] : undefined;
  // A cancelled admission stays cancelled; otherwise a discharge date means the visit is over (IG: PV1-45).
  if (event === 'cancelled') return event;
  if (discharged && triggerEvent.toUpperCase() !== 'A13') return 'finished';
  return event ?? PATIENT_CLASS_STATUS[classCode] ?? 'unknown';
}

/** Maps a PV1 to an Encounter entry for `subject`; returns its reference. */
export function mapEncounter(ctx: ConversionContext, pv1: Hl7Segment, subject: Reference): Reference {
  const classCode = cweCode(pv1.first(2));
  const mappedClass = PATIENT_CLASS[classCode];
  let encounterClass: Encounter['class'];
  if (mappedClass) encounterClass = { ...mappedClass };
  else if (classCode !== '') encounterClass = { system: v2Table('0004'), code: code(classCode) ?? classCode };
  else {
    encounterClass = { system: V3_NULL_FLAVOR, code: 'UNK', display: 'unknown' };
    ctx.finding('warning', 'HL7_MISSING_FIELD', 'PV1-2 (patient class) is empty.', ctx.path(pv1, 2));
  }
  const start = ctx.dateTime(pv1, 44);
  let end = ctx.dateTime(pv1, 45);
  if (start !== undefined && end !== undefined && Date.parse(end) < Date.parse(start)) {
    ctx.finding(
      'warning',
      'HL7_PERIOD_REVERSED',
      'PV1-45 is before PV1-44; the end was left out.',
      ctx.path(pv1, 45),
    );
    end = undefined;
  }
  const status = encounterStatus(ctx, classCode, end !== undefined);
  const encounter: Encounter = { resourceType: 'Encounter', status, class: encounterClass };

  const visit = identifierFromCx(pv1.first(19), ctx, 'VN');
  if (visit) encounter.identifier = [visit];
  const type = codeableConcept(pv1.first(4), ctx, { table: '0007' });
  if (type) encounter.type = [type];
  const service = codeableConcept(pv1.first(10), ctx, { table: '0069' });
  if (service) encounter.serviceType = service;
  encounter.subject = subject;

  const participants: EncounterParticipant[] = [];
  for (const [field, participation, display] of PARTICIPANTS) {
    for (const rep of pv1.repetitions(field)) {
      const individual = practitionerRef(ctx, rep);
      if (!individual) continue;
      participants.push({
        type: [{ coding: [{ system: V3_PARTICIPATION, code: participation, display }] }],
        individual,
      });
    }
  }
  if (participants.length > 0) encounter.participant = participants;

  if (start !== undefined || (end !== undefined && status === 'finished')) {
    encounter.period = {};
    if (start !== undefined) encounter.period.start = start;
    if (end !== undefined && status === 'finished') encounter.period.end = end;
  }

  const location = locationRef(ctx, pv1.first(3));
  if (location) {
    const locationStatus = status === 'finished' ? 'completed' : classCode === 'P' ? 'planned' : 'active';
    encounter.location = [{ location, status: locationStatus }];
  }
  return ctx.add(`Encounter|${pv1.index}`, () => encounter);
}
