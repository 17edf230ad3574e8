#!/usr/bin/env node
/** Runs the audit service alone (`node apps/audit/dist/main.js`): consumer, API on AUDIT_PORT. */
import { auditEnv, ConfigError, loadEnv } from '@ward/config';
import closeWithGrace from 'close-with-grace';
import { createAuditServer } from './server.js';

async function main(): Promise<void> {
  const config = loadEnv(auditEnv);
  const app = await createAuditServer({ config });
  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err: { message: err.message } }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: storing events in hand');
    await app.close();
  });
  await app.listen({ port: config.AUDIT_PORT, host: config.AUDIT_HOST });
}

main().catch((err: Error) => {
  console.error(err instanceof ConfigError ? err.message : `audit service failed to start: ${err.message}`);
  process.exit(2);
});
