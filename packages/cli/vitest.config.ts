import { packageConfig } from '@course/config/vitest';

// These tests run the course command as a child process against a copy of the course.
export default packageConfig('cli', { testTimeout: 90_000, hookTimeout: 90_000 });
