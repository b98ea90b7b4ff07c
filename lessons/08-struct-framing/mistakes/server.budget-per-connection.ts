/**
 * MISTAKE: a budget per connection instead of one for the whole server.
 *
 * Each connection gets its own Budget of budgetBytes, so each one alone stays within the limit,
 * and a test with one greedy client passes. But the limit was meant for all clients at once:
 * 20 clients holding 16 MiB frames each hold 20 times the budget between them, and the server's
 * memory grows with the number of clients (what issue 13 measured: 113 → 580 MiB for 20 of them).
 * @caught-by step 8: close a connection that breaks the framing or is too slow, log it, and carry on › clients that together would pass the budget
 */
import net from 'node:net';
import { isMain, peerAddress, runServerProgram } from '@course/program';
import { MAX_FRAME_BYTES } from '../solution/framing.ts';
import {
  Budget,
  DEFAULT_BUDGET_BYTES,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  handleConnection,
  program,
  type ServerOptions,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export function createEchoServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxFrameBytes = MAX_FRAME_BYTES,
    frameTimeoutMs = DEFAULT_FRAME_TIMEOUT_MS,
    budgetBytes = DEFAULT_BUDGET_BYTES,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  let open = 0;
  return net.createServer((socket) => {
    if (open >= maxConnections) {
      log(`client ${peerAddress(socket)} refused: ${maxConnections} connections already open, closing`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    // The mistake: `new Budget(...)` here, once per connection, instead of once above, for all.
    handleConnection(socket, log, { maxFrameBytes, frameTimeoutMs, budget: new Budget(budgetBytes) });
  });
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) =>
      createEchoServer({
        log: console.log,
        maxFrameBytes: cli.integer('max-frame-bytes', MAX_FRAME_BYTES, { min: 0, max: 0xffff_ffff }),
        frameTimeoutMs: cli.milliseconds('timeout', DEFAULT_FRAME_TIMEOUT_MS),
        budgetBytes: cli.integer('budget', DEFAULT_BUDGET_BYTES, { min: 1 }),
        maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
      }),
  });
