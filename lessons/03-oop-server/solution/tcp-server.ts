/**
 * Lesson 03: the server as a class.
 *
 * TcpServer owns everything every TCP server needs and nothing of any protocol: the listening
 * socket, the set of open connections, a start() that resolves to the bound address, a stop()
 * that closes every connection (idle ones too) and resolves when all are closed, and one method
 * a subclass overrides to speak its protocol: handleConnection(socket, peer).
 *
 *   class Greeter extends TcpServer {
 *     protected override handleConnection(socket: net.Socket, peer: string) {
 *       socket.end(`hello ${peer}\n`);
 *     }
 *   }
 *   const server = new Greeter();
 *   const { port } = await server.start({ port: 9000 });
 *   ...
 *   await server.stop();
 */
import net, { type AddressInfo } from 'node:net';
import { describeError, type ListenOptions, peerAddress } from '@course/program';

/** Where a server writes its log lines (console.log in the program). */
export type Log = (line: string) => void;

export interface TcpServerOptions {
  log?: Log;
  /** A connection that sends nothing for this long is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** How long stop() lets a connection close politely before destroying it (default 250 ms). */
  closeGraceMs?: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_CLOSE_GRACE_MS = 250;

export class TcpServer {
  /** The listening socket. It only hands out connections; it never carries a byte of data. */
  readonly server: net.Server;
  protected readonly log: Log;
  protected readonly idleTimeoutMs: number;
  protected readonly closeGraceMs: number;
  /** Every open connection: the state that stop() needs, and the reason this is a class. */
  protected readonly connections = new Set<net.Socket>();

  constructor(options: TcpServerOptions = {}) {
    this.log = options.log ?? (() => {});
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.server = net.createServer((socket) => this.accept(socket));
    // After start(), a failure of the listening socket (say, too many open files) is logged:
    // without a listener, an 'error' event would crash the whole process.
    this.server.on('error', (error) => {
      if (this.server.listening) this.log(`server error: ${describeError(error)}`);
    });
  }

  /** How many connections are open right now. */
  get openConnections(): number {
    return this.connections.size;
  }

  // region step-1
  /**
   * Binds and listens (default 127.0.0.1, port 0: any free port). Resolves with the address
   * actually bound, the real port included; rejects with the error, EADDRINUSE say.
   */
  start({ host = '127.0.0.1', port = 0, backlog }: Partial<ListenOptions> = {}): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }
  // endregion step-1

  // region step-2
  /**
   * Runs once for every accepted connection, before the subclass sees it: the bookkeeping every
   * server needs, so that no subclass can forget it.
   */
  private accept(socket: net.Socket): void {
    const peer = peerAddress(socket);
    // Remember the connection until it closes: stop() must be able to reach it.
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    // A reset must never crash the process: every socket gets an 'error' listener.
    socket.on('error', (error) => this.log(`client ${peer} failed: ${describeError(error)}`));
    // A client that connects and sends nothing must not hold a socket forever.
    socket.setTimeout(this.idleTimeoutMs, () => {
      this.log(`client ${peer} idle for ${this.idleTimeoutMs} ms: closing`);
      socket.destroy();
    });
    try {
      this.handleConnection(socket, peer);
    } catch (error) {
      // A bug in one subclass's handler costs one connection, not the whole server.
      this.log(`client ${peer}: handler failed: ${describeError(error)}`);
      socket.destroy();
    }
  }
  // endregion step-2

  /**
   * The protocol: called once per connection with its socket and the client's `IP:PORT`.
   * Override it in a subclass. This one closes the connection at once, politely.
   */
  protected handleConnection(socket: net.Socket, _peer: string): void {
    socket.end();
  }

  // region step-3
  /**
   * Stops accepting, closes every open connection (idle ones too), and resolves once the
   * listening socket and every connection are closed. Each connection gets a polite FIN first,
   * so that a reply being written still goes out; one that lingers past closeGraceMs is
   * destroyed. Resolves at once when the server is not running.
   */
  async stop(): Promise<void> {
    // server.close() stops accepting at once, but its callback only runs once every connection
    // has closed: on its own, it waits for clients that may never leave.
    const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => socket.destroy(), this.closeGraceMs);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.end();
        }),
    );
    await Promise.all([listening, ...connections]);
  }
  // endregion step-3
}
