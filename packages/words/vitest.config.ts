import { packageConfig } from '@course/config/vitest';

export default packageConfig('words');
