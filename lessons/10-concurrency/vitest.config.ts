import { lessonConfig } from '@course/config/vitest';

export default lessonConfig(import.meta.url);
