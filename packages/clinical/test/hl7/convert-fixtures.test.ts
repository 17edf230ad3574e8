import { describe, expect, it } from 'vitest';
import {
  type ConvertHl7Options,
  convertHl7ToFhir,
  type DiagnosticReport,
  type FhirBundle,
  type Observation,
  validateBundle,
} from '../../src/hl7/index.js';
import { observation, only, referenceTo, report, resolve, resources } from './bundle-helpers.js';
import { FIXTURE_DIR, fixtureDirExists, fixtureNames, readExpected, readFixture } from './fixtures.js';

function convert(name: string, options?: ConvertHl7Options) {
  return convertHl7ToFhir(readFixture(name), options);
}

function bundleOf(name: string, options?: ConvertHl7Options): FhirBundle {
  return convert(name, options).bundle;
}

describe('HL7 v2 fixtures', () => {
  it('finds the shared fixture folder relative to this test file', () => {
    expect(fixtureDirExists(), FIXTURE_DIR).toBe(true);
    expect(fixtureNames().length).toBeGreaterThanOrEqual(12);
  });

  describe.each(fixtureNames())('%s', (name) => {
    it('converts to a bundle that validates without errors', () => {
      const { bundle, findings } = convert(name);
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('transaction');
      expect(resources(bundle, 'Patient').length).toBeGreaterThanOrEqual(1);
      expect(validateBundle(bundle)).toEqual([]);
      expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    });

    it('gives every entry a urn:uuid fullUrl matching its id and an idempotent PUT', () => {
      const { bundle } = convert(name);
      const urls = bundle.entry.map((e) => e.fullUrl);
      expect(new Set(urls).size).toBe(urls.length);
      for (const e of bundle.entry) {
        expect(e.fullUrl).toBe(`urn:uuid:${e.resource.id}`);
        expect(e.request).toEqual({ method: 'PUT', url: `${e.resource.resourceType}/${e.resource.id}` });
      }
    });

    it('converts the same message to the same bundle whatever the line ends and BOM', () => {
      const text = readFixture(name).replace(/^\uFEFF/, '');
      const [cr, lf, crlf, bom] = [
        text.replace(/\r\n|\r|\n/g, '\r'),
        text.replace(/\r\n|\r|\n/g, '\n'),
        text.replace(/\r\n|\r|\n/g, '\r\n'),
        `\uFEFF${text}`,
      ].map((variant) => convertHl7ToFhir(variant));
      expect(lf).toEqual(cr);
      expect(crlf).toEqual(cr);
      expect(bom).toEqual(cr);
      expect(convertHl7ToFhir(text)).toEqual(cr);
    });
  });

  it('keeps resource ids stable across releases (PUT upserts depend on them)', () => {
    const bundle = bundleOf('LAB-ORU-1.hl7');
    expect(only(bundle, 'Patient').id).toBe('610ee315-76bd-5c4c-adbd-f8783d919130');
  });

  it('gives different ids to a different message (control id) or sender', () => {
    const text = readFixture('LAB-ORU-1.hl7');
    const base = convertHl7ToFhir(text).bundle;
    const otherControlId = convertHl7ToFhir(text.replace('|ORU^R01|182|', '|ORU^R01|183|')).bundle;
    const otherSender = convertHl7ToFhir(text.replace('|SomeSystem|', '|OtherSystem|')).bundle;
    const otherNamespace = convertHl7ToFhir(text, {
      idNamespace: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    }).bundle;
    for (const other of [otherControlId, otherSender, otherNamespace]) {
      expect(only(other, 'Patient').id).not.toBe(only(base, 'Patient').id);
      expect(other.id).not.toBe(base.id);
    }
  });

  it('emits a collection without requests on request', () => {
    const bundle = bundleOf('LAB-ORU-1.hl7', { bundleType: 'collection' });
    expect(bundle.type).toBe('collection');
    expect(bundle.entry.every((e) => e.request === undefined)).toBe(true);
    expect(validateBundle(bundle)).toEqual([]);
  });
});

describe('ADT^A01 (ADT-A01-01)', () => {
  const bundle = bundleOf('ADT-A01-01.hl7');
  const patient = only(bundle, 'Patient');
  const encounter = only(bundle, 'Encounter');

  it('maps PID-3 identifiers with type from CX.5 and system from CX.4', () => {
    expect(patient.identifier?.[0]).toEqual({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      value: 'PATID1234',
      assigner: { display: 'test1' },
    });
    expect(patient.identifier?.[1]).toEqual({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
      system: 'http://hl7.org/fhir/sid/us-ssn',
      value: '123456789',
    });
    // PID-2 (deprecated patient id) follows, with its CX.7/CX.8 period.
    expect(patient.identifier?.[2]).toMatchObject({
      value: '1234567',
      period: { start: '1924-10-11', end: '1924-10-12' },
    });
  });

  it('maps PID-5 names with use from XPN.7, given names, prefix and suffixes', () => {
    expect(patient.name).toEqual([
      {
        use: 'usual',
        family: 'EVERYMAN',
        given: ['ADAM', 'A'],
        prefix: ['Dr.'],
        suffix: ['III', 'MD'],
        period: { start: '1924-10-12' },
      },
      {
        use: 'official',
        family: 'Josh',
        given: ['stanley'],
        period: { start: '1924-10-10', end: '1924-10-15' },
      },
    ]);
  });

  it('maps birth date (with birth time), gender, death, address and marital status', () => {
    expect(patient.birthDate).toBe('1988-08-18');
    expect(patient._birthDate?.extension[0]).toEqual({
      url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
      valueDateTime: '1988-08-18T11:26:00+02:15',
    });
    expect(patient.gender).toBe('male');
    expect(patient.deceasedDateTime).toBe('2008-08-25T11:16:30+01:15');
    expect(patient.deceasedBoolean).toBeUndefined();
    expect(patient.address?.[0]).toEqual({
      type: 'postal',
      line: ['1000', 'Ste. 123'],
      city: 'Ann Arbor',
      state: 'MI',
      postalCode: '99999',
      country: 'USA',
      period: { start: '2000-01-10', end: '2000-01-20' },
    });
    expect(patient.maritalStatus?.coding?.[0]).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
      code: 'M',
      display: 'Married',
    });
    expect(patient.telecom?.[0]).toMatchObject({ system: 'phone', use: 'mobile', rank: 18 });
  });

  it('maps PV1 to an in-progress Encounter with class, period start, visit number, location and attending', () => {
    expect(encounter.status).toBe('in-progress');
    expect(encounter.class).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: 'PRENC',
      display: 'pre-admission',
    });
    expect(encounter.period).toEqual({ start: '2015-02-08T11:34:19+01:10' });
    expect(encounter.identifier?.[0]).toMatchObject({ value: '40007716' });
    expect(encounter.subject?.reference).toBe(referenceTo(bundle, patient));
    const location = resolve(bundle, encounter.location?.[0]?.location);
    expect(location).toMatchObject({
      resourceType: 'Location',
      name: 'HOMERTON UNIVER, Homerton UH, Floor5, HUH AE OMU, OMU B, Bed 03',
    });
    const attending = encounter.participant?.find((p) => p.type?.[0]?.coding?.[0]?.code === 'ATND');
    expect(resolve(bundle, attending?.individual)).toMatchObject({
      resourceType: 'Practitioner',
      identifier: [{ value: '1122334' }],
      name: [{ family: 'Alaz', given: ['Mohammed', 'Mahi'] }],
    });
  });

  it('maps the OBX to an Observation with LOINC code, quantity, range and interpretation', () => {
    const obs = observation(bundle, '8867-4');
    expect(obs.code.coding?.[0]).toEqual({
      system: 'http://loinc.org',
      code: '8867-4',
      display: 'heartrate',
    });
    expect(obs.status).toBe('preliminary');
    // beats/min is not UCUM, so the unit stays display text only.
    expect(obs.valueQuantity).toEqual({ value: 60, unit: 'beats/min' });
    expect(obs.referenceRange).toEqual([
      { low: { value: 70, unit: 'beats/min' }, high: { value: 80, unit: 'beats/min' }, text: '70-80' },
    ]);
    expect(obs.interpretation?.map((i) => i.coding?.[0]?.code)).toEqual(['A', 'B']);
    expect(obs.effectiveDateTime).toBe('1999-07-02');
    expect(obs.subject?.reference).toBe(referenceTo(bundle, patient));
    expect(obs.encounter?.reference).toBe(referenceTo(bundle, encounter));
  });

  it('maps AL1 to an AllergyIntolerance', () => {
    const allergy = only(bundle, 'AllergyIntolerance');
    expect(allergy).toMatchObject({
      clinicalStatus: { coding: [{ code: 'active' }] },
      type: 'allergy',
      category: ['environment'],
      criticality: 'low',
      code: { coding: [{ code: 'P', display: 'PENICILLIN' }] },
      onsetDateTime: '2021-08-24',
      reaction: [{ manifestation: [{ text: 'CODE16' }], severity: 'mild' }],
    });
    expect(allergy.patient.reference).toBe(referenceTo(bundle, patient));
  });

  it('maps DG1 to an encounter-diagnosis Condition linked from the Encounter', () => {
    const condition = only(bundle, 'Condition');
    expect(condition.code).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '422504002', display: 'Ischemic stroke(disorder)' }],
      text: 'Stroke',
    });
    expect(condition.category?.[0]?.coding?.[0]).toMatchObject({ code: 'encounter-diagnosis' });
    expect(condition.recordedDate).toBe('2004-01-25T11:40:25+04:20');
    expect(resolve(bundle, condition.asserter)).toMatchObject({ name: [{ family: 'DIAG' }] });
    expect(encounter.diagnosis).toEqual([
      {
        condition: { reference: referenceTo(bundle, condition) },
        use: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role',
              code: 'AD',
              display: 'Admission diagnosis',
            },
          ],
        },
        rank: 1,
      },
    ]);
  });

  it('reports what it dropped: the second OBX-5 repetition and unmapped segments', () => {
    const { findings } = convert('ADT-A01-01.hl7');
    expect(findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['HL7_REPEATED_VALUE', 'HL7_SEGMENTS_NOT_CONVERTED']),
    );
  });
});

describe('ADT^A03/A04/A08', () => {
  it('A03 finishes the Encounter with PV1-45 as period end', () => {
    const encounter = only(bundleOf('ADT-A03-01.hl7'), 'Encounter');
    expect(encounter.status).toBe('finished');
    expect(encounter.period).toEqual({
      start: '2015-02-08T11:34:19+01:10',
      end: '2015-02-09T11:34:19+01:10',
    });
    expect(encounter.location?.[0]?.status).toBe('completed');
  });

  it('A04 keeps the Encounter in progress', () => {
    const encounter = only(bundleOf('ADT-A04-01.hl7'), 'Encounter');
    expect(encounter.status).toBe('in-progress');
    expect(encounter.period).toEqual({ start: '2015-02-08T11:34:19+01:10' });
  });

  it('A08 with a discharge date (PV1-45) reports the Encounter finished, per the IG', () => {
    const encounter = only(bundleOf('ADT-A08-01.hl7'), 'Encounter');
    expect(encounter.status).toBe('finished');
    expect(encounter.period?.end).toBe('2015-02-09T11:34:19+01:10');
  });

  it('A08 without a discharge date is in progress', () => {
    const text = readFixture('ADT-A08-01.hl7').replace(
      '20150208113419+0110|20150209113419+0110|',
      '20150208113419+0110||',
    );
    expect(only(convertHl7ToFhir(text).bundle, 'Encounter').status).toBe('in-progress');
  });
});

describe('ADT^A01 without time zones (ADT_A01_without_repetition)', () => {
  it('keeps only the date of offset-less times and says so', () => {
    const { bundle, findings } = convert('ADT_A01_without_repetition.hl7');
    expect(only(bundle, 'Encounter').period).toEqual({ start: '2015-02-08' });
    expect(only(bundle, 'Patient').deceasedDateTime).toBe('2008-08-25');
    expect(bundle.timestamp).toBeUndefined();
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'HL7_TIME_WITHOUT_OFFSET', path: 'segments[6].PV1-44' }),
    );
  });

  it('uses defaultTimezoneOffset for offset-less times when configured', () => {
    const bundle = bundleOf('ADT_A01_without_repetition.hl7', { defaultTimezoneOffset: '+01:00' });
    expect(only(bundle, 'Encounter').period).toEqual({ start: '2015-02-08T11:34:19+01:00' });
    expect(only(bundle, 'Condition').recordedDate).toBe('2004-01-25T11:40:25+01:00');
  });

  it('maps marital status A (separated), OBX-11 X (cancelled) and an allergen type given in CWE.4', () => {
    const bundle = bundleOf('ADT_A01_without_repetition.hl7');
    expect(only(bundle, 'Patient').maritalStatus?.coding?.[0]).toMatchObject({ code: 'L' });
    const obs = observation(bundle, '8867-4');
    expect(obs.status).toBe('cancelled');
    expect(obs.valueQuantity).toEqual({ value: 44, unit: 'beats/min' });
    expect(only(bundle, 'AllergyIntolerance').category).toEqual(['environment']);
    expect(only(bundle, 'Condition').code?.coding).toEqual([
      { system: 'http://hl7.org/fhir/sid/icd-9-cm', code: '71596', display: 'OSTEOARTHROS NOS-L/LEG' },
      { code: '72596', display: 'ARTHRITIS' },
    ]);
  });
});

describe('ORU^R01 (LAB-ORU-1)', () => {
  const bundle = bundleOf('LAB-ORU-1.hl7');
  const patient = only(bundle, 'Patient');

  it('maps the patient', () => {
    expect(patient.identifier?.[0]).toEqual({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      value: '10006579',
      assigner: { display: '1' },
    });
    expect(patient.name).toEqual([{ family: 'DUCK', given: ['DONALD', 'D'] }]);
    expect(patient.birthDate).toBe('1924-10-10');
    expect(patient.gender).toBe('male');
    expect(patient.deceasedBoolean).toBe(false);
    expect(patient.telecom).toEqual([
      { system: 'phone', value: '8885551212', use: 'home' },
      { system: 'phone', value: '8885551212', use: 'work' },
    ]);
  });

  it('maps each OBR to a DiagnosticReport whose results are its OBX rows', () => {
    const hemogram = report(bundle, '24317-0');
    expect(hemogram.status).toBe('final');
    expect(hemogram.identifier?.map((i) => [i.type?.coding?.[0]?.code, i.value])).toEqual([
      ['PLAC', '88502218'],
      ['FILL', '82503246'],
    ]);
    expect(hemogram.result?.map((r) => (resolve(bundle, r) as Observation).code.coding?.[0]?.code)).toEqual([
      '11156-7',
      '11273-0',
      '20509-6',
      '20570-8',
      '11125-2',
    ]);
    // The second OBR leaves OBR-25 empty (its F sits in OBR-26).
    expect(report(bundle, '26464-8').status).toBe('unknown');
  });

  it('maps OBX code, value, unit, status and time', () => {
    const hemogram = report(bundle, '24317-0');
    expect(observation(bundle, '11273-0', hemogram)).toMatchObject({
      status: 'preliminary',
      code: { coding: [{ system: 'http://loinc.org', code: '11273-0', display: 'ERYTHROCYTES' }] },
      valueQuantity: { value: 4.06, unit: 'tera.l-1' },
      effectiveDateTime: '2014-10-06T06:27:00+07:00',
      interpretation: [{ coding: [{ code: 'N', display: 'Normal' }] }],
    });
    expect(observation(bundle, '20570-8', hemogram).valueQuantity).toEqual({
      value: 40.1,
      unit: '%',
      system: 'http://unitsofmeasure.org',
      code: '%',
    });
    expect(observation(bundle, '11125-2', hemogram)).toMatchObject({
      status: 'final',
      valueQuantity: { value: 221 },
    });
    const pending = observation(bundle, '11156-7', hemogram);
    expect(pending.status).toBe('registered');
    expect(Object.keys(pending).filter((k) => k.startsWith('value'))).toEqual([]);
    expect(observation(bundle, '30180-4').valueQuantity).toEqual({
      value: 0,
      unit: '%',
      system: 'http://unitsofmeasure.org',
      code: '%',
    });
  });

  it("agrees with Microsoft's converter on every Observation's code, value, unit, time and interpretation", () => {
    const expected = readExpected('LAB-ORU-1') as { entry: { resource: Record<string, any> }[] };
    const theirs = new Map(expected.entry.map((e) => [e.resource.id as string, e.resource]));
    let compared = 0;
    for (const theirReport of expected.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'DiagnosticReport')) {
      const ours = report(bundle, theirReport.code.coding[0].code);
      for (const ref of theirReport.result) {
        const obs = theirs.get(String(ref.reference).split('/')[1]!)!;
        const mine = observation(bundle, obs.code.coding[0].code, ours as DiagnosticReport);
        expect(mine.code.coding?.[0]).toEqual(obs.code.coding[0]);
        expect(mine.valueQuantity?.value).toBe(obs.valueQuantity?.value);
        expect(mine.valueQuantity?.unit).toBe(obs.valueQuantity?.unit);
        expect(mine.effectiveDateTime).toBe(obs.effectiveDateTime);
        expect(mine.interpretation?.[0]?.coding?.[0]?.code).toBe(obs.interpretation?.[0]?.coding?.[0]?.code);
        // Microsoft leaves OBX-11 I as unknown; Ward maps it to registered (specimen in lab, no result yet).
        expect(mine.status).toBe(obs.status === 'unknown' ? 'registered' : obs.status);
        compared++;
      }
    }
    expect(compared).toBe(10);
  });
});

describe('ORU^R01 (LAB-ORU-2)', () => {
  const bundle = bundleOf('LAB-ORU-2.hl7');

  it('maps OBX values and units, keeping a unit that parses as UCUM as a UCUM code', () => {
    const cbc = report(bundle, '24317-0');
    expect(observation(bundle, '20509-6', cbc)).toMatchObject({
      status: 'final',
      valueQuantity: { value: 13.4, unit: 'g/l-1', system: 'http://unitsofmeasure.org', code: 'g/l-1' },
      effectiveDateTime: '2014-10-06T08:30:00+07:00',
    });
    expect(observation(bundle, '11156-7', cbc).valueQuantity).toEqual({ value: 8.2, unit: 'giga.l-1' });
    expect(observation(bundle, '11273-0', cbc).valueQuantity).toEqual({ value: 4.08, unit: 'tera.l-1' });
    expect(observation(bundle, '11125-2', cbc).valueQuantity).toEqual({ value: 220, unit: 'giga.l-1' });
    const diff = report(bundle, '26464-8');
    expect(observation(bundle, '23761-0', diff).valueQuantity).toMatchObject({ value: 72, code: '%' });
    expect(diff.status).toBe('unknown');
  });
});

describe('ORU^R01 (ORU-R01-01)', () => {
  const bundle = bundleOf('ORU-R01-01.hl7');
  const expected = readExpected('ORU-R01-01') as { entry: { resource: Record<string, any> }[] };
  const theirs = (type: string) =>
    expected.entry.map((e) => e.resource).filter((r) => r.resourceType === type);

  it('maps the patient identifier with an ISO OID assigning authority', () => {
    const patient = only(bundle, 'Patient');
    expect(patient.identifier).toEqual([
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI' }] },
        system: 'urn:oid:2.16.840.1.114222.4.3.3.5.1.2',
        value: '14',
      },
    ]);
    expect(patient.name).toEqual([{ use: 'official', family: 'Finn', given: ['Huckleberry'] }]);
    expect(patient.birthDate).toBe('1963-08-15');
    expect(patient.gender).toBe('male');
    expect(bundle.timestamp).toBe('2012-03-14T12:59:00-02:15');
  });

  it('maps the OBR to a DiagnosticReport with status, effective and issued times', () => {
    const dr = report(bundle, '625-4');
    expect(dr.status).toBe('final');
    expect(dr.code).toEqual({
      coding: [{ code: '625-4', display: 'Bacteria identified in Stool by Culture' }],
      text: 'Enteric Culture',
    });
    expect(dr.effectiveDateTime).toBe('2002-02-15T07:30:00+02:15');
    expect(dr.issued).toBe('2002-03-15T07:30:00+02:15');
    expect(dr.category?.[0]?.coding?.[0]).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v2-0074',
      code: 'BLB',
    });
    // Same instants as Microsoft's output, which rewrites offsets to its build machine's zone.
    const ms = theirs('DiagnosticReport').find((r) => r.code.coding[0].code === '625-4')!;
    expect(Date.parse(dr.effectiveDateTime!)).toBe(Date.parse(ms.effectiveDateTime));
    expect(Date.parse(dr.issued!)).toBe(Date.parse(ms.issued));
  });

  it('maps a CWE result to valueCodeableConcept with SNOMED CT, its notes and interpretation', () => {
    const dr = report(bundle, '625-4');
    const obs = observation(bundle, '625-4', dr);
    expect(obs.valueCodeableConcept).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '27268008', display: 'Salmonella' }],
      text: 'Salmonella species',
    });
    expect(obs.status).toBe('preliminary');
    expect(obs.effectiveDateTime).toBe('2012-03-01');
    expect(obs.referenceRange).toEqual([{ text: '70-80' }]);
    expect(obs.interpretation?.[0]?.coding?.[0]).toMatchObject({ code: 'A' });
    expect(obs.note).toEqual([{ text: 'Submission of serum' }, { text: 'No Antibodies Detected' }]);
    const ms = theirs('Observation').find((o) => o.code.coding[0].code === '625-4')!;
    expect(obs.valueCodeableConcept).toEqual(ms.valueCodeableConcept);
  });

  it('falls back to OBR-7 for a result without OBX-14 and keeps the first of repeated NM values', () => {
    const obs = observation(bundle, '8867-4');
    expect(obs).toMatchObject({
      code: { coding: [{ system: 'http://loinc.org', version: '2.33', code: '8867-4' }], text: 'result1' },
      status: 'registered',
      valueQuantity: { value: 27 },
      effectiveDateTime: '2002-02-15T07:30:00+02:15',
    });
  });

  it('turns ED/RP results outside a report into DocumentReferences (an OBX without OBX-3 included)', () => {
    const docs = resources(bundle, 'DocumentReference');
    expect(docs.map((d) => d.content[0]?.attachment)).toEqual([
      { contentType: 'application/pict', url: 'https://testurl.com', title: 'heartrate' },
      { contentType: 'application/octet-stream' },
      { contentType: 'image/pict', url: 'https://testurl.com', title: 'result1' },
    ]);
  });

  it('maps PV1 to a finished Encounter over the same instants as Microsoft', () => {
    const encounter = only(bundle, 'Encounter');
    expect(encounter.status).toBe('finished');
    expect(encounter.period).toEqual({
      start: '2015-02-08T11:34:19+01:10',
      end: '2015-02-09T11:34:19+01:10',
    });
    const ms = theirs('Encounter')[0]!;
    expect(encounter.class.code).toBe(ms.class.code);
    expect(Date.parse(encounter.period!.start!)).toBe(Date.parse(ms.period.start));
    expect(Date.parse(encounter.period!.end!)).toBe(Date.parse(ms.period.end));
  });
});

describe('order and document messages', () => {
  it('ORM^O01: converts PID/PV1/AL1/DG1/OBX, not the order OBR', () => {
    const bundle = bundleOf('ORM-O01-01.hl7');
    expect(resources(bundle, 'DiagnosticReport')).toEqual([]);
    const encounter = only(bundle, 'Encounter');
    expect(encounter.class.code).toBe('AMB');
    expect(encounter.status).toBe('in-progress');
    expect(encounter.period).toEqual({ start: '2021-10-20T12:00:00+02:15' });
    expect(resolve(bundle, encounter.location?.[0]?.location)).toMatchObject({
      name: 'GHH, RADUnit01, Room01',
    });
    const condition = only(bundle, 'Condition');
    expect(condition.code?.coding?.[0]).toEqual({
      system: 'http://hl7.org/fhir/sid/icd-10-cm',
      code: 'S06.9',
      display: 'TBI(traumatic brain injury',
    });
    expect(encounter.diagnosis?.[0]?.use?.coding?.[0]?.code).toBe('DD');
    expect(observation(bundle, '8867-4').valueQuantity).toEqual({ value: 60, unit: 'beats/min' });
    expect(only(bundle, 'AllergyIntolerance').code?.coding?.[0]?.display).toBe('PENICILLIN');
  });

  it('ORM^O01: a site can map I10 to WHO ICD-10 instead', () => {
    const bundle = bundleOf('ORM-O01-01.hl7', { codeSystems: { I10: 'http://hl7.org/fhir/sid/icd-10' } });
    expect(only(bundle, 'Condition').code?.coding?.[0]?.system).toBe('http://hl7.org/fhir/sid/icd-10');
  });

  it('RDE^O11: converts patient, visit and the CWE observation', () => {
    const bundle = bundleOf('RDE-O11-01.hl7');
    expect(only(bundle, 'Encounter').class.code).toBe('IMP');
    expect(observation(bundle, '8867-4')).toMatchObject({
      status: 'preliminary',
      valueCodeableConcept: { coding: [{ code: '160' }] },
    });
  });

  it('MDM^T02: keeps the DICOM study UID as text and the PDF as a DocumentReference', () => {
    const bundle = bundleOf('MDM-T02-01.hl7');
    expect(observation(bundle, '113014')).toMatchObject({
      code: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '113014' }] },
      valueString: '1.2.840.317.5947431.51',
      note: [{ text: 'Antibodies Detected' }],
    });
    const doc = only(bundle, 'DocumentReference');
    expect(doc).toMatchObject({
      status: 'current',
      docStatus: 'final',
      content: [{ attachment: { contentType: 'application/pdf', title: 'TransthoracicEcho' } }],
    });
    expect(only(bundle, 'Patient').identifier).toEqual([
      { value: '987654321' },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
        system: 'http://hl7.org/fhir/sid/us-ssn',
        value: '111-22-3333',
      },
    ]);
  });
});
