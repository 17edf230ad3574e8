/** Child process: an Ollama simulator for the bench, started with the options in BENCH_SIM_OPTIONS. */
import { type StartSimOptions, startSim } from '@ward/ollama-sim';
import { announce, closeOnSignal, failStart, optionsFromEnv } from './ipc.js';

try {
  const sim = await startSim(optionsFromEnv<StartSimOptions>('BENCH_SIM_OPTIONS'));
  closeOnSignal(() => sim.close());
  announce({ type: 'ready', url: sim.url });
} catch (err) {
  failStart(err);
}
