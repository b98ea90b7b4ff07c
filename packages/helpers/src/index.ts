/**
 * @course/helpers: the test harness every lesson uses. Real sockets on loopback, port 0, bounded
 * waits that explain themselves to a learner, and everything closed when each test ends.
 */
export { halfClose, resetAfter, slowReader, trickle, vanish } from './adversaries.ts';
export { closeAfterTest } from './cleanup.ts';
export { LogLines } from './log.ts';
export {
  closedPort,
  closeServerAfterTest,
  connect,
  type Ending,
  type ExchangeOptions,
  exchange,
  LOOPBACK,
  listen,
  Peer,
  startServer,
} from './net.ts';
export {
  Lesson,
  lessonOf,
  type ProgramResult,
  type ReproSetup,
  RunningProgram,
  reproLines,
  reproSetup,
  startCommand,
} from './program.ts';
export { startProxy } from './proxy.ts';
export {
  asHex,
  asText,
  describeBytes,
  type NcLineOptions,
  ncLine,
} from './show.ts';
export { courseLineWords, hasCommand, runCommand, runCourseLine, startCourseLine } from './tools.ts';
export * from './udp.ts';
export {
  assertBytes,
  Changes,
  DEFAULT_WAIT_MS,
  type Explanation,
  formatExplanation,
  LIVENESS_MS,
  type Outcome,
  unlessTodo,
  type WaitOptions,
  WireError,
  waitUntil,
  within,
} from './wait.ts';
export {
  type ChunkingProxy,
  type Cut,
  createProxy,
  mulberry32,
  type ProxyOptions,
  type WireEvent,
} from './wire.ts';
