import { describe, expect, it } from 'vitest';
import { convertHl7ToFhir, validateBundle } from '../../src/hl7/index.js';
import { observation, only, referenceTo, report, resolve, resources } from './bundle-helpers.js';

function msh(type: string, time = '20240102030405+0100'): string {
  return `MSH|^~\\&|LAB|HOSP|WARD|WARD|${time}||${type}|CTRL42|P|2.5.1`;
}
const PID = 'PID|1||MRN1^^^HOSP^MR||DOE^JANE||19800101|F';
const OBR = 'OBR|1|PL1|FI1|24317-0^Hemogram^LN|||20240102030000+0100||||||||||||||||||F';

function convert(...segments: string[]) {
  const result = convertHl7ToFhir(segments.join('\r'));
  expect(validateBundle(result.bundle)).toEqual([]);
  return result;
}

function oru(...obx: string[]) {
  return convert(msh('ORU^R01'), PID, OBR, ...obx).bundle;
}

describe('OBX values by OBX-2 type', () => {
  it('SN: comparator quantity, range and ratio', () => {
    const bundle = oru(
      'OBX|1|SN|1-1^A^LN||<^5|mg/dL^^UCUM|||||F',
      'OBX|2|SN|2-2^B^LN||^10^-^20|mg/dL|||||F',
      'OBX|3|SN|3-3^C^LN||^1^:^128||||||F',
      'OBX|4|SN|4-4^D^LN||^2^+||||||F',
    );
    expect(observation(bundle, '1-1').valueQuantity).toEqual({
      value: 5,
      comparator: '<',
      unit: 'mg/dL',
      system: 'http://unitsofmeasure.org',
      code: 'mg/dL',
    });
    expect(observation(bundle, '2-2').valueRange).toEqual({
      low: { value: 10, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
      high: { value: 20, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
    });
    expect(observation(bundle, '3-3').valueRatio).toEqual({
      numerator: { value: 1 },
      denominator: { value: 128 },
    });
    expect(observation(bundle, '4-4').valueString).toBe('2+');
  });

  it('ST/TX/FT: text with escapes decoded and repetitions on separate lines', () => {
    const bundle = oru(
      'OBX|1|FT|1-1^Note^LN||Line one\\.br\\a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f~second repetition||||||F',
      'OBX|2|ST|2-2^Short^LN||  padded  ||||||F',
    );
    expect(observation(bundle, '1-1').valueString).toBe('Line one\na|b^c&d~e\\f\nsecond repetition');
    expect(observation(bundle, '2-2').valueString).toBe('padded');
  });

  it('CE/CWE: CodeableConcept with mapped and unmapped coding systems', () => {
    const bundle = oru('OBX|1|CWE|1-1^Organism^LN||112283007^E. coli^SCT^ECO^E coli^99LAB||||||F');
    expect(observation(bundle, '1-1').valueCodeableConcept).toEqual({
      coding: [
        { system: 'http://snomed.info/sct', code: '112283007', display: 'E. coli' },
        { code: 'ECO', display: 'E coli' },
      ],
    });
  });

  it('DT/TS/TM: dateTime and time with their precision', () => {
    const bundle = oru(
      'OBX|1|DT|1-1^Date^LN||20230415||||||F',
      'OBX|2|TS|2-2^Stamp^LN||202304151230-0500||||||F',
      'OBX|3|TM|3-3^Time^LN||0930||||||F',
    );
    expect(observation(bundle, '1-1').valueDateTime).toBe('2023-04-15');
    expect(observation(bundle, '2-2').valueDateTime).toBe('2023-04-15T12:30:00-05:00');
    expect(observation(bundle, '3-3').valueTime).toBe('09:30:00');
  });

  it('NM that is not a number is kept as text with a warning', () => {
    const { bundle, findings } = convert(msh('ORU^R01'), PID, OBR, 'OBX|1|NM|1-1^A^LN||>1000|U/L|||||F');
    expect(observation(bundle, '1-1').valueString).toBe('>1000');
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'HL7_INVALID_NUMBER', path: 'segments[3].OBX-5' }),
    );
  });

  it('ED under an OBR becomes DiagnosticReport.presentedForm, not an Observation', () => {
    const bundle = oru('OBX|1|ED|11502-2^Lab report^LN||LAB^application^pdf^Base64^JVBERi0xLjQ=||||||F');
    expect(resources(bundle, 'Observation')).toEqual([]);
    expect(report(bundle, '24317-0').presentedForm).toEqual([
      { contentType: 'application/pdf', data: 'JVBERi0xLjQ=', title: 'Lab report' },
    ]);
  });

  it('maps OBX-11 per table 0085 and flags an empty status', () => {
    const codes = ['F', 'P', 'C', 'X', 'D', 'W', 'A', 'I', 'R', 'S', 'N'];
    const bundle = oru(...codes.map((c, i) => `OBX|${i + 1}|NM|${i}-${i}^T^LN||1||||||${c}`));
    expect(codes.map((_, i) => observation(bundle, `${i}-${i}`).status)).toEqual([
      'final',
      'preliminary',
      'corrected',
      'cancelled',
      'entered-in-error',
      'entered-in-error',
      'amended',
      'registered',
      'preliminary',
      'preliminary',
      'cancelled',
    ]);
    const { bundle: b2, findings } = convert(msh('ORU^R01'), PID, OBR, 'OBX|1|NM|1-1^T^LN||1');
    expect(observation(b2, '1-1').status).toBe('unknown');
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'HL7_MISSING_FIELD', path: 'segments[3].OBX-11' }),
    );
  });

  it('maps OBR-25 per table 0123', () => {
    const statuses = ['F', 'P', 'C', 'R', 'I', 'X'].map(
      (c) =>
        only(convert(msh('ORU^R01'), PID, OBR.replace(/\|F$/, `|${c}`)).bundle, 'DiagnosticReport').status,
    );
    expect(statuses).toEqual(['final', 'preliminary', 'corrected', 'partial', 'registered', 'cancelled']);
  });
});

describe('patients and visits', () => {
  it.each([
    ['M', 'male'],
    ['F', 'female'],
    ['O', 'other'],
    ['A', 'other'],
    ['N', 'other'],
    ['U', 'unknown'],
  ])('maps PID-8 %s to %s (IG AdministrativeSex map)', (sex, gender) => {
    const bundle = convert(msh('ADT^A04'), PID.replace(/\|F$/, `|${sex}`)).bundle;
    expect(only(bundle, 'Patient').gender).toBe(gender);
  });

  it.each([
    ['I', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'IMP'],
    ['O', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'AMB'],
    ['E', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'EMER'],
    ['P', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'PRENC'],
    ['R', 'http://terminology.hl7.org/CodeSystem/v2-0004', 'R'],
  ])('maps PV1-2 %s to Encounter.class %s|%s', (patientClass, system, code) => {
    const bundle = convert(msh('ADT^A01'), PID, `PV1|1|${patientClass}|WARD^101^A`).bundle;
    expect(only(bundle, 'Encounter').class).toMatchObject({ system, code });
  });

  it.each([
    ['A01', 'in-progress'],
    ['A03', 'finished'],
    ['A04', 'in-progress'],
    ['A05', 'planned'],
    ['A08', 'in-progress'],
    ['A11', 'cancelled'],
  ])('gives ADT^%s an Encounter status of %s', (event, status) => {
    const bundle = convert(msh(`ADT^${event}`), PID, 'PV1|1|I|WARD^101^A').bundle;
    expect(only(bundle, 'Encounter').status).toBe(status);
  });

  it('drops a discharge time that precedes admission', () => {
    const { bundle, findings } = convert(
      msh('ADT^A03'),
      PID,
      `PV1|1|I|WARD${'|'.repeat(41)}202401021000+0100|202401011000+0100`,
    );
    expect(only(bundle, 'Encounter').period).toEqual({ start: '2024-01-02T10:00:00+01:00' });
    expect(findings).toContainEqual(expect.objectContaining({ code: 'HL7_PERIOD_REVERSED' }));
  });

  it('decodes escapes in names and maps e-mail and phone numbers', () => {
    const bundle = convert(
      msh('ADT^A08'),
      'PID|1||MRN1^^^HOSP^MR||O\\T\\BRIEN^ANN||19800101|F|||||^NET^Internet^ann@example.org~^PRN^PH^^1^555^0100^12',
    ).bundle;
    const patient = only(bundle, 'Patient');
    expect(patient.name?.[0]?.family).toBe('O&BRIEN');
    expect(patient.telecom).toEqual([
      { system: 'email', value: 'ann@example.org' },
      { system: 'phone', value: '+1 (555) 0100 ext. 12', use: 'home' },
    ]);
  });

  it('uses configured assigning authorities for Identifier.system', () => {
    const bundle = convertHl7ToFhir([msh('ADT^A08'), PID].join('\r'), {
      assigningAuthorities: { HOSP: 'urn:oid:1.2.3.4' },
    }).bundle;
    expect(only(bundle, 'Patient').identifier?.[0]).toMatchObject({
      system: 'urn:oid:1.2.3.4',
      value: 'MRN1',
    });
  });

  it('keeps results with the patient they follow when an ORU carries two patients', () => {
    const bundle = oruTwoPatients();
    const [first, second] = resources(bundle, 'Patient');
    expect(observation(bundle, '1-1').subject?.reference).toBe(referenceTo(bundle, first!));
    expect(observation(bundle, '2-2').subject?.reference).toBe(referenceTo(bundle, second!));
    const reports = resources(bundle, 'DiagnosticReport');
    expect(reports.map((r) => resolve(bundle, r.subject))).toEqual([first, second]);
  });
});

describe('time zones', () => {
  it("gives an offset-less time MSH-7's offset (HL7: the sender's zone)", () => {
    const bundle = oru('OBX|1|NM|1-1^A^LN||1||||||F|||202401020300');
    expect(observation(bundle, '1-1').effectiveDateTime).toBe('2024-01-02T03:00:00+01:00');
  });

  it('prefers MSH-7 over defaultTimezoneOffset and reports an unusable option', () => {
    const text = [msh('ORU^R01'), PID, OBR, 'OBX|1|NM|1-1^A^LN||1||||||F|||202401020300'].join('\r');
    const withOption = convertHl7ToFhir(text, { defaultTimezoneOffset: '-05:00' }).bundle;
    expect(observation(withOption, '1-1').effectiveDateTime).toBe('2024-01-02T03:00:00+01:00');
    const { findings } = convertHl7ToFhir(text, { defaultTimezoneOffset: 'CET' });
    expect(findings).toContainEqual(expect.objectContaining({ code: 'HL7_OPTION_IGNORED' }));
  });
});

function oruTwoPatients() {
  return convert(
    msh('ORU^R01'),
    PID,
    OBR,
    'OBX|1|NM|1-1^A^LN||1||||||F',
    'PID|1||MRN2^^^HOSP^MR||ROE^RICHARD||19700101|M',
    OBR.replace('PL1|FI1', 'PL2|FI2'),
    'OBX|1|NM|2-2^B^LN||2||||||F',
  ).bundle;
}
