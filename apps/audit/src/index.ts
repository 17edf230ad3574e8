export {
  ACTOR_HEADER,
  AUDIT_ROLES,
  type AuditAppOptions,
  buildAuditApp,
  type ForwardedActor,
  INTERNAL_HEADER,
} from './app.js';
export { type AuditBenchResult, type BenchAuditOptions, benchAudit, measureAudit } from './bench.js';
export { canonicalJson } from './canonical.js';
export { chainHash, GENESIS_HASH } from './chain.js';
export {
  type CommandOutput,
  formatReport,
  type PurgeCommandOptions,
  runPurgeCommand,
  runVerifyCommand,
  type VerifyCommandOptions,
} from './commands.js';
export { AuditConsumer, type AuditConsumerOptions, type ConsumerStats } from './consumer.js';
export { CSV_COLUMNS, csvField, csvLine } from './csv.js';
export { AuditErrors } from './errors.js';
export { type FhirAuditEvent, toFhirAuditEvent, ulidToUuid, WARD_SYSTEMS } from './fhir.js';
export {
  type AuditSigner,
  auditKeyId,
  devSigningKeyPath,
  ed25519Signer,
  generateSigningKeyPem,
  type LoadedSigner,
  loadAuditSigner,
  loadPublicKeys,
  verifySignature,
} from './keys.js';
export { decodeCursor, encodeCursor, queryAuditEvents, streamAuditRows } from './query.js';
export { type AuditServerOptions, createAuditServer } from './server.js';
export {
  type AppendResult,
  AuditStore,
  type AuditStoreOptions,
  type CheckpointPayload,
  InvalidAuditEventError,
  type PurgeResult,
  storedEventText,
} from './store.js';
export { type VerifyOptions, verifyAuditChain } from './verify.js';
