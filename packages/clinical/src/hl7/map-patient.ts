/**
 * PID → Patient, per the v2-to-FHIR IG segment map (identifiers, names, birth date and time,
 * gender, addresses, telecom, marital status, multiple birth, deceased).
 */
import { ADMINISTRATIVE_SEX, BIRTH_TIME_EXTENSION, MARITAL_STATUS, US_SSN, V2_0203 } from './code-systems.js';
import type { ConversionContext } from './context.js';
import {
  addressFromXad,
  codeableConcept,
  contactPointFromXtn,
  cweCode,
  humanNameFromXpn,
  identifierFromCx,
  text,
} from './datatypes.js';
import { parseHl7Timestamp, toFhirDateTime } from './datetime.js';
import type { CodeableConcept, Identifier, Patient, Reference } from './fhir-types.js';
import type { Hl7Segment } from './model.js';

function yesNo(value: string): boolean | undefined {
  const v = text(value).toUpperCase();
  if (v === 'Y' || v === 'YES') return true;
  if (v === 'N' || v === 'NO') return false;
  return undefined;
}

function identifiers(ctx: ConversionContext, pid: Hl7Segment): Identifier[] {
  const out: Identifier[] = [];
  const seen = new Set<string>();
  const push = (id: Identifier | undefined) => {
    if (!id) return;
    const key = JSON.stringify([id.system, id.value, id.type?.coding?.[0]?.code]);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(id);
  };
  for (const rep of pid.repetitions(3)) push(identifierFromCx(rep, ctx));
  for (const rep of pid.repetitions(2)) push(identifierFromCx(rep, ctx));
  for (const rep of pid.repetitions(4)) push(identifierFromCx(rep, ctx));
  // PID-19 is the US SSN; the us-ssn system is claimed only for values shaped like one.
  const ssn = text(pid.value(19));
  const ssnType = { coding: [{ system: V2_0203, code: 'SS' }] };
  if (/^\d{3}-?\d{2}-?\d{4}$/.test(ssn)) push({ type: ssnType, system: US_SSN, value: ssn });
  else if (ssn !== '') push({ type: ssnType, value: ssn });
  return out;
}

/** Maps one PID to a Patient entry and returns the reference to it. Throws on an invalid PID-7. */
export function mapPatient(ctx: ConversionContext, pid: Hl7Segment): Reference {
  const patient: Patient = { resourceType: 'Patient' };
  const ids = identifiers(ctx, pid);
  if (ids.length > 0) patient.identifier = ids;
  else
    ctx.finding('warning', 'HL7_PATIENT_WITHOUT_IDENTIFIER', 'PID-3 holds no identifier.', ctx.path(pid, 3));

  const names = pid.repetitions(5).flatMap((rep) => humanNameFromXpn(rep, ctx) ?? []);
  if (names.length > 0) patient.name = names;

  const telecom = [
    ...pid.repetitions(13).flatMap((rep) => contactPointFromXtn(rep, ctx, 'home') ?? []),
    ...pid.repetitions(14).flatMap((rep) => contactPointFromXtn(rep, ctx, 'work') ?? []),
  ];
  if (telecom.length > 0) patient.telecom = telecom;

  const sexCode = cweCode(pid.first(8));
  const gender = ADMINISTRATIVE_SEX[sexCode];
  if (gender) patient.gender = gender;
  else if (sexCode !== '') {
    ctx.finding(
      'warning',
      'HL7_UNKNOWN_CODE',
      'PID-8 is not a table 0001 code; gender left out.',
      ctx.path(pid, 8),
    );
  }

  const birthDate = ctx.date(pid, 7, true);
  if (birthDate !== undefined) {
    patient.birthDate = birthDate;
    const parsed = parseHl7Timestamp(pid.value(7));
    if (parsed.kind === 'ok' && parsed.value.hour !== undefined) {
      const time = toFhirDateTime(parsed.value, ctx.implicitOffset);
      if (!time.timeDropped) {
        patient._birthDate = { extension: [{ url: BIRTH_TIME_EXTENSION, valueDateTime: time.value }] };
      }
    }
  }

  const deceasedAt = ctx.dateTime(pid, 29);
  const deceased = yesNo(pid.value(30));
  if (deceasedAt !== undefined) patient.deceasedDateTime = deceasedAt;
  else if (deceased !== undefined) patient.deceasedBoolean = deceased;

  const addresses = pid.repetitions(11).flatMap((rep) => addressFromXad(rep, ctx) ?? []);
  if (addresses.length > 0) patient.address = addresses;

  const maritalRep = pid.first(16);
  if (maritalRep) {
    const mapped = MARITAL_STATUS[cweCode(maritalRep)];
    const concept: CodeableConcept | undefined = mapped
      ? { coding: [{ ...mapped }] }
      : codeableConcept(maritalRep, ctx);
    if (concept) patient.maritalStatus = concept;
  }

  const birthOrder = text(pid.value(25));
  const multiple = yesNo(pid.value(24));
  if (/^[1-9]\d{0,2}$/.test(birthOrder)) patient.multipleBirthInteger = Number(birthOrder);
  else if (multiple !== undefined) patient.multipleBirthBoolean = multiple;

  return ctx.add(`Patient|${pid.index}`, () => patient);
}
