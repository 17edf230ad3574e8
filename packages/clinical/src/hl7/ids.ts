/**
 * Deterministic resource ids: RFC 4122 UUIDv5 (SHA-1, name-based) of a name built from the
 * sending application/facility, MSH-10 and the segment a resource comes from.
 */
import { createHash } from 'node:crypto';

/** Ward's default UUIDv5 namespace for HL7 v2 conversions. */
export const WARD_HL7_ID_NAMESPACE = '933f3277-41fd-4cf2-857b-b250823ae4f7';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** RFC 4122 version-5 UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = WARD_HL7_ID_NAMESPACE): string {
  if (!isUuid(namespace)) throw new TypeError('namespace must be a UUID');
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
