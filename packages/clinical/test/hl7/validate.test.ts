import { describe, expect, it } from 'vitest';
import { convertHl7ToFhir, validateBundle } from '../../src/hl7/index.js';
import { readFixture } from './fixtures.js';

const PATIENT = 'urn:uuid:11111111-1111-5111-8111-111111111111';
const OBS = 'urn:uuid:22222222-2222-5222-8222-222222222222';

/** A small valid collection: a patient and one observation about them. */
function base(): any {
  return {
    resourceType: 'Bundle',
    id: 'b1',
    type: 'collection',
    entry: [
      {
        fullUrl: PATIENT,
        resource: { resourceType: 'Patient', id: '11111111-1111-5111-8111-111111111111', gender: 'female' },
      },
      {
        fullUrl: OBS,
        resource: {
          resourceType: 'Observation',
          id: '22222222-2222-5222-8222-222222222222',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
          subject: { reference: PATIENT },
          effectiveDateTime: '2024-01-02T03:04:05+01:00',
          valueQuantity: { value: 13.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
        },
      },
    ],
  };
}

function codes(bundle: unknown): string[] {
  return validateBundle(bundle).map((f) => `${f.code} ${f.path}`);
}

describe('validateBundle', () => {
  it('accepts a valid bundle', () => {
    expect(validateBundle(base())).toEqual([]);
  });

  it('rejects what is not a bundle', () => {
    expect(codes({ resourceType: 'Patient' })).toEqual(['FHIR_NOT_A_BUNDLE resourceType']);
    expect(codes(null)).toEqual(['FHIR_NOT_A_BUNDLE resourceType']);
  });

  it('requires Observation.status and Observation.code', () => {
    const b = base();
    delete b.entry[1].resource.status;
    delete b.entry[1].resource.code;
    expect(codes(b)).toEqual([
      'FHIR_REQUIRED_ELEMENT_MISSING entry[1].resource.status',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[1].resource.code',
    ]);
  });

  it('requires DiagnosticReport status/code, Encounter status/class, AllergyIntolerance.patient, Condition.subject', () => {
    const b = base();
    b.entry.push(
      {
        fullUrl: 'urn:uuid:33333333-3333-5333-8333-333333333333',
        resource: { resourceType: 'DiagnosticReport' },
      },
      { fullUrl: 'urn:uuid:44444444-4444-5444-8444-444444444444', resource: { resourceType: 'Encounter' } },
      {
        fullUrl: 'urn:uuid:55555555-5555-5555-8555-555555555555',
        resource: { resourceType: 'AllergyIntolerance', clinicalStatus: { text: 'active' } },
      },
      { fullUrl: 'urn:uuid:66666666-6666-5666-8666-666666666666', resource: { resourceType: 'Condition' } },
    );
    expect(codes(b)).toEqual([
      'FHIR_REQUIRED_ELEMENT_MISSING entry[2].resource.status',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[2].resource.code',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[3].resource.status',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[3].resource.class',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[4].resource.patient',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[5].resource.subject',
    ]);
  });

  it('checks required-binding codes and primitive formats', () => {
    const b = base();
    b.entry[0].resource.gender = 'M';
    b.entry[0].resource.birthDate = '1988-13-01';
    b.entry[1].resource.status = 'done';
    b.entry[1].resource.effectiveDateTime = '2024-01-02T03:04';
    b.entry[1].resource.code.coding[0].code = ' 718-7';
    expect(codes(b)).toEqual([
      'FHIR_INVALID_DATE entry[0].resource.birthDate',
      'FHIR_INVALID_CODE entry[0].resource.gender',
      'FHIR_INVALID_CODE entry[1].resource.code.coding[0].code',
      'FHIR_INVALID_DATETIME entry[1].resource.effectiveDateTime',
      'FHIR_INVALID_CODE entry[1].resource.status',
    ]);
  });

  it('requires a timezone once a dateTime has a time', () => {
    const b = base();
    b.entry[1].resource.effectiveDateTime = '2024-01-02T03:04:05';
    expect(codes(b)).toEqual(['FHIR_INVALID_DATETIME entry[1].resource.effectiveDateTime']);
  });

  it('flags references that do not resolve or point to the wrong type', () => {
    const b = base();
    b.entry[1].resource.subject = { reference: 'urn:uuid:99999999-9999-5999-8999-999999999999' };
    b.entry[1].resource.encounter = { reference: PATIENT };
    expect(codes(b)).toEqual([
      'FHIR_REFERENCE_UNRESOLVED entry[1].resource.subject.reference',
      'FHIR_REFERENCE_WRONG_TYPE entry[1].resource.encounter',
    ]);
  });

  it('resolves Type/id references against entry ids', () => {
    const b = base();
    b.entry[1].resource.subject = { reference: 'Patient/11111111-1111-5111-8111-111111111111' };
    expect(validateBundle(b)).toEqual([]);
  });

  it('requires unique fullUrls (bdl-7) and requests in transactions (bdl-3)', () => {
    const b = base();
    b.entry[1].fullUrl = PATIENT;
    b.type = 'transaction';
    expect(codes(b)).toEqual([
      'FHIR_REQUIRED_ELEMENT_MISSING entry[0].request',
      'FHIR_DUPLICATE_FULLURL entry[1].fullUrl',
      'FHIR_REQUIRED_ELEMENT_MISSING entry[1].request',
    ]);
  });

  it('rejects empty strings, arrays and objects (ele-1)', () => {
    const b = base();
    b.entry[0].resource.name = [];
    b.entry[0].resource.address = [{}];
    b.entry[1].resource.code.text = '';
    expect(codes(b)).toEqual([
      'FHIR_EMPTY_ELEMENT entry[0].resource.name',
      'FHIR_EMPTY_ELEMENT entry[0].resource.address[0]',
      'FHIR_EMPTY_ELEMENT entry[1].resource.code.text',
    ]);
  });

  it('checks the invariants the converter relies on (obs-6, cpt-2, qty-3, ait-1, per-1, value[x])', () => {
    const b = base();
    const obs = b.entry[1].resource;
    obs.dataAbsentReason = { text: 'not asked' };
    obs.valueString = 'thirteen';
    delete obs.valueQuantity.system;
    b.entry[0].resource.telecom = [{ value: '555-0100' }];
    b.entry.push(
      {
        fullUrl: 'urn:uuid:55555555-5555-5555-8555-555555555555',
        resource: { resourceType: 'AllergyIntolerance', patient: { reference: PATIENT } },
      },
      {
        fullUrl: 'urn:uuid:44444444-4444-5444-8444-444444444444',
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'IMP' },
          period: { start: '2024-01-02', end: '2024-01-01' },
        },
      },
    );
    expect(codes(b)).toEqual([
      'FHIR_INVARIANT entry[0].resource.telecom[0]',
      'FHIR_CARDINALITY entry[1].resource',
      'FHIR_INVARIANT entry[1].resource.valueQuantity',
      'FHIR_INVARIANT entry[1].resource.dataAbsentReason',
      'FHIR_INVARIANT entry[2].resource.clinicalStatus',
      'FHIR_INVARIANT entry[3].resource.period',
    ]);
  });

  it('never puts element values in its messages', () => {
    const b = base();
    b.entry[0].resource.gender = 'SECRETVALUE';
    b.entry[0].resource.birthDate = 'SECRETDATE';
    for (const f of validateBundle(b)) expect(f.message).not.toMatch(/SECRET/);
  });

  it('catches a converted bundle that was broken afterwards', () => {
    const { bundle } = convertHl7ToFhir(readFixture('LAB-ORU-1.hl7'));
    const broken: any = structuredClone(bundle);
    broken.entry.splice(0, 1); // drop the Patient every Observation points to
    const findings = validateBundle(broken);
    expect(findings.length).toBeGreaterThan(10);
    expect(new Set(findings.map((f) => f.code))).toEqual(new Set(['FHIR_REFERENCE_UNRESOLVED']));
  });
});
