import { packageConfig } from '@course/config/vitest';

// These tests run the course command as a child process against a copy of the course.
// A backstop above the tests' own bounds: a test may run the course command twice (60 s each).
export default packageConfig('cli', { testTimeout: 180_000, hookTimeout: 180_000 });
