import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e suites start real servers; give them room but keep unit tests fast.
    testTimeout: 20_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
