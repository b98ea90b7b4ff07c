import { packageConfig } from '@course/config/vitest';

// A browser test drives Chromium through whole pages: its steps take longer than a socket's.
export default packageConfig('site', { testTimeout: 20_000, hookTimeout: 60_000, maxConcurrency: 2 });
