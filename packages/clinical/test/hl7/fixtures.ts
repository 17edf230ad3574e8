/** Reads the shared HL7 v2 sample messages (microsoft/FHIR-Converter, MIT) that the tests convert. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** /work/shared/fixtures/hl7v2, computed from this file: packages/clinical/test/hl7 → ../../../../../shared. */
export const FIXTURE_DIR = fileURLToPath(new URL('../../../../../shared/fixtures/hl7v2/', import.meta.url));

export function fixtureDirExists(): boolean {
  return existsSync(FIXTURE_DIR);
}

/** Every `*.hl7` fixture name, sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name.endsWith('.hl7'))
    .sort();
}

/** The fixture's text exactly as stored (BOM and LF line ends included). */
export function readFixture(name: string): string {
  return readFileSync(`${FIXTURE_DIR}${name}`, 'utf8');
}

/** Microsoft's own FHIR output for a fixture, kept for cross-checking values. */
export function readExpected(name: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURE_DIR}expected/${name}.json`, 'utf8'));
}
