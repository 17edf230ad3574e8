/** Small lookups over converted bundles, for the fixture tests. */
import type {
  AllergyIntolerance,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  FhirBundle,
  FhirResource,
  Location,
  Observation,
  Patient,
  Practitioner,
  Reference,
} from '../../src/hl7/index.js';

type ByType = {
  Patient: Patient;
  Encounter: Encounter;
  Observation: Observation;
  DiagnosticReport: DiagnosticReport;
  AllergyIntolerance: AllergyIntolerance;
  Condition: Condition;
  DocumentReference: DocumentReference;
  Practitioner: Practitioner;
  Location: Location;
};

export function resources<T extends keyof ByType>(bundle: FhirBundle, type: T): ByType[T][] {
  return bundle.entry.map((e) => e.resource).filter((r): r is ByType[T] => r.resourceType === type);
}

export function only<T extends keyof ByType>(bundle: FhirBundle, type: T): ByType[T] {
  const all = resources(bundle, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0]!;
}

export function resolve(bundle: FhirBundle, ref: Reference | undefined): FhirResource {
  const found = bundle.entry.find((e) => e.fullUrl === ref?.reference);
  if (!found) throw new Error('reference does not resolve');
  return found.resource;
}

export function referenceTo(bundle: FhirBundle, resource: FhirResource): string {
  const found = bundle.entry.find((e) => e.resource === resource);
  if (!found) throw new Error('resource not in bundle');
  return found.fullUrl;
}

/** The Observation whose first coding has this code. */
export function observation(bundle: FhirBundle, code: string, within?: DiagnosticReport): Observation {
  const pool = within
    ? (within.result ?? []).map((r) => resolve(bundle, r) as Observation)
    : resources(bundle, 'Observation');
  const found = pool.filter((o) => o.code.coding?.[0]?.code === code);
  if (found.length !== 1) throw new Error(`expected one Observation ${code}, found ${found.length}`);
  return found[0]!;
}

/** The DiagnosticReport whose first coding has this code. */
export function report(bundle: FhirBundle, code: string): DiagnosticReport {
  const found = resources(bundle, 'DiagnosticReport').filter((r) => r.code.coding?.[0]?.code === code);
  if (found.length !== 1) throw new Error(`expected one DiagnosticReport ${code}, found ${found.length}`);
  return found[0]!;
}
