// Every lesson and the helpers as one vitest workspace: `npx vitest` here, or the editor's
// vitest extension, sees them all. `npm test` uses it through scripts/test.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['lessons/*', 'packages/helpers', 'packages/program'],
  },
});
