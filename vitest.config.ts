import { defineConfig } from 'vitest/config';

// Three tiers (see README "Tests"): unit is pure and parallel; lab and browser touch real kernels,
// namespaces and browsers, so they run one file at a time with generous timeouts.
export default defineConfig({
  test: {
    globalSetup: ['test/setup/isolated-home.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/unit/setup-i18n.ts'],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
