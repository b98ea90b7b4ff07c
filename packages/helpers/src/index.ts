/**
 * @course/helpers: the test harness every lesson uses. Real sockets on loopback, port 0, bounded
 * waits that explain themselves to a learner, and everything closed when each test ends.
 */
export { halfClose, resetAfter, slowReader, vanish } from './adversaries.ts';
export { closeAfterTest } from './cleanup.ts';
export { LogLines } from './log.ts';
export {
  closedPort,
  connect,
  type Ending,
  type ExchangeOptions,
  exchange,
  LOOPBACK,
  listen,
  Peer,
  startServer,
} from './net.ts';
export { Lesson, lessonOf, type ProgramResult, RunningProgram, reproLines, startCommand } from './program.ts';
export {
  type ChunkingProxy,
  type Cut,
  mulberry32,
  type ProxyOptions,
  startProxy,
  type WireEvent,
} from './proxy.ts';
export { asHex, asText, describeBytes, ncLine, printfArgument } from './show.ts';
export { hasCommand, runCommand } from './tools.ts';
export {
  assertBytes,
  DEFAULT_WAIT_MS,
  type Explanation,
  formatExplanation,
  type WaitOptions,
  WireError,
  within,
} from './wait.ts';
