/**
 * Lesson 03: the server as a class.
 *
 * TcpServer owns everything every TCP server needs and nothing of any protocol: the listening
 * socket, the set of open connections, a start() that resolves to the bound address, a stop()
 * that closes every connection (idle ones too) and resolves when all are closed, a deadline for
 * each client's request, and one method a subclass overrides to speak its protocol:
 * handleConnection(socket, peer).
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
  async start({ host = '127.0.0.1', port = 0, backlog }: Partial<ListenOptions> = {}): Promise<AddressInfo> {
    // TODO(1): lesson 02's listen(), as a method of this.server: bind host:port with the backlog
    // and resolve with the address really bound (the real port when port is 0). A taken port is
    // reported by an event, not thrown: reject with it, and remove that listener once listening
    // (the constructor's own 'error' listener takes over then). README: step 1.
    throw new Error('TODO(1): start() listens and resolves to the bound address — see README step 1');
  }
  // endregion step-1

  // region step-2
  /**
   * Runs once for every accepted connection, before the subclass sees it: the bookkeeping every
   * server needs, so that no subclass can forget it.
   */
  private accept(socket: net.Socket): void {
    const peer = peerAddress(socket);
    // TODO(2): the bookkeeping every connection needs, then the subclass's handler. What must hold:
    //   - this.connections holds exactly the open sockets (stop() needs them), and no timer of a
    //     socket outlives it (requestComplete() clears its deadline);
    //   - a client's reset is logged, `client IP:PORT failed: ...` (describeError()), and never
    //     crashes the process;
    //   - the deadline: a request not complete within this.requestTimeoutMs of connecting gets
    //     this.requestTimedOut(socket, peer), unless our side is already closing or the socket
    //     is destroyed. Keep its timer in this.deadlines (requestComplete() clears it there). An
    //     idle timer (socket.setTimeout) will not do: a client trickling bytes restarts it;
    //   - once our side is closed and flushed (which Writable event?), the client has
    //     this.closeGraceMs to close its own, or the socket is destroyed;
    //   - a handleConnection() that throws costs one connection, not the server: log
    //     `client IP:PORT: handler failed: ...` and destroy the socket.
    // README "A deadline, not an idle timer", step 2.

    // Until this step is done, every client is told what is missing. Delete this line.
    socket.end('TODO(2): track the connection and call handleConnection() — see README step 2\n');
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
    // TODO(3): stop accepting, and close every open connection, idle ones too: the server's own
    // close() waits for clients that may never leave (README "What stop() has to do"). Each
    // connection gets a polite FIN first, and is destroyed if still open after
    // this.closeGraceMs. Resolve once the listening socket and every connection have closed,
    // with no timer left behind. README: step 3.
    throw new Error(
      'TODO(3): stop() closes every connection and resolves when all are closed — see README step 3',
    );
  }
  // endregion step-3
}
