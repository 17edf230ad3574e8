// Container health probe for every Ward role: exits 0 when the URL answers 2xx within 4 s.
// Usage: node deploy/healthcheck.mjs [url]   (default: the gateway's /health/live on port 3001)
const url = process.argv[2] ?? 'http://127.0.0.1:3001/health/live';

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  if (!res.ok) console.error(`healthcheck: ${url} answered ${res.status}`);
  process.exitCode = res.ok ? 0 : 1;
} catch (err) {
  console.error(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
