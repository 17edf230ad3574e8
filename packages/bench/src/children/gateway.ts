/**
 * Child process: Ward's gateway configured from the environment, as `ward start --target gateway`
 * runs it (same createServer, same pino redaction), listening on 127.0.0.1 and a free port.
 */
import { gatewayEnv, keyringFrom, loadEnv } from '@ward/config';
import { createServer } from '@ward/gateway';
import { Sealer } from '@ward/queue';
import pino from 'pino';
import { announce, closeOnSignal, failStart } from './ipc.js';

try {
  const config = loadEnv(gatewayEnv);
  const ring = keyringFrom(config);
  if (!ring) throw new Error('WARD_DATA_KEY is required');
  const logger = pino({
    level: config.LOG_LEVEL,
    redact: { paths: ['prompt', '*.prompt', 'response', '*.response'], censor: '[redacted]' },
  });
  const app = await createServer({ config, sealer: new Sealer(ring), logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  closeOnSignal(() => app.close());
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  announce({ type: 'ready', url: `http://127.0.0.1:${port}` });
} catch (err) {
  failStart(err);
}
