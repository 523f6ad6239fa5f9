import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Apps and tests import the package by name: the sources under test, not the build in lib/.
    alias: [{ find: /^cdk8s-mlops$/, replacement: fileURLToPath(new URL('src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // e2e suites start real servers; give them room but keep unit tests fast.
    testTimeout: 20_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
