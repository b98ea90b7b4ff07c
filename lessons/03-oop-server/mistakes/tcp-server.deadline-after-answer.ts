/**
 * MISTAKE: when the deadline fires, requestTimedOut() runs even though the server has answered.
 *
 * It looks harmless, and with a subclass that calls requestComplete() as soon as it answers it
 * is: the timer is cleared before it fires. But requestComplete() is the subclass's job, and a
 * subclass that answers without it (or a stop() that ended the connection) leaves the deadline
 * running: the client, answered and given closeGraceMs to close its side, is then logged as
 * `too slow` and destroyed, and the web server would try to write a 408 after its answer
 * (ERR_STREAM_WRITE_AFTER_END). Once socket.writableEnded is true, the client owes nothing.
 *
 * Everything else is solution/tcp-server.ts; the class is written out whole because accept(),
 * where the timer is started, is private.
 *
 * @caught-by step 2: every connection is tracked and handed to handleConnection() › once the server has answered, the deadline no longer applies
 */
import net, { type AddressInfo } from 'node:net';
import { describeError, type ListenOptions, peerAddress } from '@course/program';

/** Where a server writes its log lines (console.log in the program). */
export type Log = (line: string) => void;

export interface TcpServerOptions {
  log?: Log;
  /**
   * A deadline, not an idle timer: a client must have sent a complete request within this long
   * of connecting (default 10 s). The subclass says when its request is complete, with
   * requestComplete(); past the deadline, requestTimedOut() closes the connection. Bytes that
   * trickle in do not push it back: only a complete request stops it.
   */
  requestTimeoutMs?: number;
  /**
   * Once the server has closed its side (an answer sent with socket.end(), or stop()), how long
   * the client has to close its own before the socket is destroyed (default 250 ms).
   */
  closeGraceMs?: number;
}

/** How long a client has, from connecting, to send a complete request: 10 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** How long a client has to close its side once the server has closed its own: 250 ms. */
export const DEFAULT_CLOSE_GRACE_MS = 250;

export class TcpServer {
  /** The listening socket. It only hands out connections; it never carries a byte of data. */
  readonly server: net.Server;
  protected readonly log: Log;
  protected readonly requestTimeoutMs: number;
  protected readonly closeGraceMs: number;
  /** Every open connection: the state that stop() needs, and the reason this is a class. */
  protected readonly connections = new Set<net.Socket>();
  /** The deadline timer of each connection whose request is not complete yet. */
  private readonly deadlines = new Map<net.Socket, NodeJS.Timeout>();

  constructor(options: TcpServerOptions = {}) {
    this.log = options.log ?? (() => {});
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
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
    // Remember the connection until it closes: stop() must be able to reach it. On 'close',
    // forget it and clear its deadline: no timer may outlive its socket.
    this.connections.add(socket);
    socket.once('close', () => {
      this.connections.delete(socket);
      this.requestComplete(socket);
    });
    // A reset must never crash the process: every socket gets an 'error' listener.
    socket.on('error', (error) => this.log(`client ${peer} failed: ${describeError(error)}`));
    // The deadline: a complete request within requestTimeoutMs of connecting. Not
    // socket.setTimeout(), an idle timer that every byte restarts: a client sending one byte a
    // second would hold the connection forever. Only requestComplete() (or 'close') clears it.
    const deadline = setTimeout(() => {
      this.deadlines.delete(socket);
      // WRONG: no check of socket.writableEnded: an answered client is cut off too.
      if (!socket.destroyed) this.requestTimedOut(socket, peer);
    }, this.requestTimeoutMs);
    this.deadlines.set(socket, deadline);
    // Once our side is closed and flushed ('finish'), the client has closeGraceMs to close its
    // own: one that never does must not hold the socket forever either.
    socket.once('finish', () => {
      const grace = setTimeout(() => socket.destroy(), this.closeGraceMs);
      socket.once('close', () => clearTimeout(grace));
    });
    try {
      this.handleConnection(socket, peer);
    } catch (error) {
      // A bug in one subclass's handler costs one connection, not the whole server.
      this.log(`client ${peer}: handler failed: ${describeError(error)}`);
      socket.destroy();
    }
  }

  /**
   * The subclass calls this once the client's request is complete: it clears the connection's
   * deadline. Calling it again, or after the deadline, does nothing.
   */
  protected requestComplete(socket: net.Socket): void {
    clearTimeout(this.deadlines.get(socket));
    this.deadlines.delete(socket);
  }

  /**
   * Runs when a client has not completed its request within requestTimeoutMs of connecting.
   * This one logs it and destroys the connection; a subclass overrides it to answer in its
   * protocol first (the web server answers 408 Request Timeout).
   */
  protected requestTimedOut(socket: net.Socket, peer: string): void {
    this.log(`client ${peer} too slow: request not complete after ${this.requestTimeoutMs} ms, closing`);
    socket.destroy();
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
