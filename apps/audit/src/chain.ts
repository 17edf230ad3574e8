import { createHash } from 'node:crypto';

/** The `prev_hash` of the first row of a chain that has never been purged. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one audit row: SHA-256 over `prev_hash ‖ "\n" ‖ seq ‖ "\n" ‖ event`, where
 * `prev_hash` is the previous row's hash (lower-case hex), `seq` the row's decimal sequence number
 * and `event` the stored canonical JSON. Returns lower-case hex.
 */
export function chainHash(prevHash: string, seq: number, event: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${event}`).digest('hex');
}
