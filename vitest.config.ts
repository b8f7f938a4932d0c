import { defineConfig } from 'vitest/config';

// Three kinds of test, named by file suffix (see DEVELOPERS.md):
//   *.test.ts          unit tests beside the code, no database
//   *.db.test.ts       database tests beside the code, on the embedded engine or DATABASE_URL
//   test/browser/*.test.ts  the real server driven in Debian's Chromium
export default defineConfig({
  test: {
    reporters: process.env.OPENICS_TEST_REPORT ? ['default', 'json'] : ['default'],
    ...(process.env.OPENICS_TEST_REPORT ? { outputFile: { json: process.env.OPENICS_TEST_REPORT } } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.db.test.ts'],
        },
      },
      {
        test: {
          name: 'db',
          include: ['src/**/*.db.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          // One Chromium at a time is plenty on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
