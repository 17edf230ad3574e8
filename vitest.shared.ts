import { defineConfig } from 'vitest/config';

/** Vitest settings every package shares: run workspace packages from source, real services, generous timeouts. */
export default defineConfig({
  resolve: { conditions: ['@ward/source'] },
  ssr: { resolve: { conditions: ['@ward/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
