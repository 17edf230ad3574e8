import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
let child: ChildProcess | undefined;

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: pkgDir, stdio: 'pipe' });
}, 60_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

function startCli(args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['dist/cli.js', ...args], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ proc, url: match[1]! });
    });
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.once('exit', (code) => reject(new Error(`cli exited with ${code}: ${err}`)));
  });
}

describe('ward-ollama-sim CLI', () => {
  it('starts on the given port with the given models, answers /api/version and stops on SIGTERM', async () => {
    const { proc, url } = await startCli([
      '--port',
      '0',
      '--models',
      'mistral:7b,llava:7b',
      '--latency',
      'none',
    ]);
    expect(await (await fetch(`${url}/api/version`)).json()).toEqual({ version: '0.12.6' });
    const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name).sort()).toEqual(['llava:7b', 'mistral:7b']);
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('rejects an unknown flag with exit code 2', async () => {
    const proc = spawn(process.execPath, ['dist/cli.js', '--bogus'], { cwd: pkgDir, stdio: 'pipe' });
    const [code] = await once(proc, 'exit');
    expect(code).toBe(2);
  });
});
