/**
 * UDP for tests: a lossy proxy that drops, duplicates or reorders datagrams (by rule or at random
 * from a printed seed), UDP peers that record every datagram with its sender, and a recorder of
 * datagram exchanges for the site's diagrams.
 *
 *   client A ──►┐                ┌──► upstream socket for A ──► server      each client gets its own
 *   client B ──►┤ proxy.port ────┤                                          upstream socket, so the
 *               │  drop/dup/     └──► upstream socket for B ──► server      server sees one sender per
 *               │  reorder ◄──── replies go back to the client they belong  client and each reply
 *
 * createUdpProxy() and recordDatagrams() work outside a test run (the site's build records with
 * them: this module imports vitest, which loads fine there, but only the test helpers call it);
 * startUdpProxy(), udpPeer() and startUdpServer() close what they open when the test ends.
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { onTestFailed } from 'vitest';
import { closeAfterTest } from './cleanup.ts';
import { currentReproSetup, withServer } from './program.ts';
import { asHex, asText, ncLine } from './show.ts';
import { Changes, type WaitOptions, waitUntil } from './wait.ts';
import { mulberry32, type WireEvent } from './wire.ts';

/** `request`: client → server; `reply`: server → client. */
export type UdpDirection = 'request' | 'reply';

/** What the proxy does with one datagram. */
export type Fate = 'deliver' | 'drop' | 'duplicate' | 'reorder';

/**
 * A rule: `{ action: 'drop', direction: 'request', first: 2 }` drops the first two datagrams
 * from clients to the server. Datagrams are counted from 1 in each direction, over all clients.
 * Without `first` or `nth` a rule applies to every datagram in its direction.
 */
export interface UdpRule {
  action: Exclude<Fate, 'deliver'>;
  /** Default `both`. */
  direction?: UdpDirection | 'both';
  /** The first N datagrams in that direction. */
  first?: number;
  /** Exactly these datagrams (1-based) in that direction. */
  nth?: number[];
}

/** Random losses: each datagram in `direction` is dropped with probability `drop`, and so on. */
export interface UdpRandom {
  /** The seed of the choices; default COURSE_SEED, else a random one (printed on failure). */
  seed?: number;
  drop?: number;
  duplicate?: number;
  reorder?: number;
  /** Default `both`. */
  direction?: UdpDirection | 'both';
}

export interface UdpProxyOptions {
  /** Applied in order; the first rule that matches a datagram decides its fate. */
  rules?: UdpRule[];
  /** For datagrams no rule matched: a seeded random fate. */
  random?: UdpRandom;
  /**
   * How long a reordered datagram waits for the next one in its direction to overtake it
   * before it is sent anyway (default 50 ms).
   */
  holdMs?: number;
  /** The server's address (default 127.0.0.1). */
  host?: string;
}

/** One datagram as the proxy handled it: a WireEvent (kind `data`) for diagrams, and more. */
export interface DatagramEvent extends WireEvent {
  kind: 'data';
  /** `deliver`, `drop`, `duplicate` (this event is the extra copy) or `reorder` (sent late). */
  fate: Fate;
  direction: UdpDirection;
  /** Its number in its direction, from 1 (a duplicate's copy has the original's number). */
  n: number;
  /** The client's address, `127.0.0.1:PORT`. */
  client: string;
}

export interface LossyUdpProxy {
  /** Send here instead of to the server. */
  port: number;
  /** The seed of the random fates (0 when there are none). */
  seed: number;
  /**
   * Every datagram in the order the proxy handled it: a dropped one where it was lost, each
   * copy of a duplicated one, a reordered one when it was finally sent.
   */
  events: DatagramEvent[];
  /** How many datagrams have arrived from clients (`request`) or from the server (`reply`). */
  count(direction: UdpDirection): number;
  /** The distinct clients seen so far, `IP:PORT` each. */
  clients(): string[];
  /**
   * What happened, in words: `request 1 (5 bytes) dropped; request 2 (5 bytes) delivered; ...`
   * (with `of IP:PORT`, the client, once there are several).
   */
  summary(): string;
  /** Waits (bounded) until `count(direction)` reaches `n`; a failure says what the proxy saw. */
  arrived(direction: UdpDirection, n: number, options?: WaitOptions): Promise<void>;
  /** Closes every socket of the proxy and clears its timers. */
  close(): Promise<void>;
}

/** At most this many clients at once (each holds one upstream socket); the oldest is forgotten. */
const MAX_CLIENTS = 256;

/** Starts a lossy UDP proxy on 127.0.0.1 in front of the UDP server at `targetPort`. */
export async function createUdpProxy(
  targetPort: number,
  options: UdpProxyOptions = {},
): Promise<LossyUdpProxy> {
  const started = performance.now();
  const host = options.host ?? '127.0.0.1';
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  const local = type === 'udp6' ? '::1' : '127.0.0.1';
  const rules = options.rules ?? [];
  const random = options.random;
  const seed = random
    ? (random.seed ?? (Number(process.env.COURSE_SEED) || (Math.random() * 2 ** 32) >>> 0))
    : 0;
  const next = mulberry32(seed);
  const holdMs = options.holdMs ?? 50;

  const events: DatagramEvent[] = [];
  const counts: Record<UdpDirection, number> = { request: 0, reply: 0 };
  const changes = new Changes();
  const timers = new Set<NodeJS.Timeout>();
  /** A reordered datagram waiting to be overtaken, per client and direction. */
  const held = new Map<string, () => void>();
  let closed = false;

  interface Client {
    key: string;
    address: string;
    port: number;
    upstream: dgram.Socket;
  }
  const clients = new Map<string, Client>();
  const front = dgram.createSocket(type);
  front.on('error', () => {}); // a test tool: a failed send is simply a lost datagram

  const fateOf = (direction: UdpDirection, n: number): Fate => {
    for (const rule of rules) {
      const way = rule.direction ?? 'both';
      if (way !== 'both' && way !== direction) continue;
      if (rule.first !== undefined && n > rule.first) continue;
      if (rule.nth !== undefined && !rule.nth.includes(n)) continue;
      return rule.action;
    }
    const way = random?.direction ?? 'both';
    if (random && (way === 'both' || way === direction)) {
      const r = next();
      const drop = random.drop ?? 0;
      const duplicate = drop + (random.duplicate ?? 0);
      const reorder = duplicate + (random.reorder ?? 0);
      if (r < drop) return 'drop';
      if (r < duplicate) return 'duplicate';
      if (r < reorder) return 'reorder';
    }
    return 'deliver';
  };

  const record = (direction: UdpDirection, fate: Fate, n: number, client: Client, bytes: Buffer) => {
    events.push({
      at: performance.now() - started,
      from: direction === 'request' ? 'client' : 'server',
      kind: 'data',
      bytes: new Uint8Array(bytes),
      fate,
      direction,
      n,
      client: client.key,
    });
  };

  /** Passes one datagram on, as its fate says. */
  const handle = (direction: UdpDirection, client: Client, bytes: Buffer) => {
    const n = ++counts[direction];
    const path = `${direction} ${client.key}`;
    const send = () => {
      if (closed) return;
      try {
        if (direction === 'request') client.upstream.send(bytes, targetPort, host, () => {});
        else front.send(bytes, client.port, client.address, () => {});
      } catch {
        // The client was forgotten (more than MAX_CLIENTS) and its socket closed: a lost datagram.
      }
    };
    const waiting = held.get(path);
    let fate = fateOf(direction, n);
    // Two reorders in a row on one path: the second simply goes ahead of the first.
    if (fate === 'reorder' && waiting) fate = 'deliver';
    if (fate === 'drop') record(direction, 'drop', n, client, bytes);
    else if (fate === 'reorder') {
      // Held until the next datagram on this path has gone ahead of it, or holdMs at most.
      const release = () => {
        held.delete(path);
        clearTimeout(timer);
        timers.delete(timer);
        record(direction, 'reorder', n, client, bytes);
        send();
        changes.notify();
      };
      const timer = setTimeout(release, holdMs);
      timers.add(timer);
      held.set(path, release);
    } else {
      record(direction, 'deliver', n, client, bytes);
      send();
      if (fate === 'duplicate') {
        record(direction, 'duplicate', n, client, bytes);
        send();
      }
      waiting?.(); // overtaken: the held datagram goes now, after this one
    }
    changes.notify();
  };

  /** The client's own upstream socket: the server answers it, and the proxy knows whose reply it is. */
  const clientFor = (from: RemoteInfo): Client => {
    const key = formatHostPort(from.address, from.port);
    const known = clients.get(key);
    if (known) return known;
    const upstream = dgram.createSocket(type);
    upstream.on('error', () => {});
    const client: Client = { key, address: from.address, port: from.port, upstream };
    upstream.on('message', (bytes, server) => {
      // Only the server's datagrams are replies; anything else that finds this port is ignored.
      if (server.port === targetPort) handle('reply', client, bytes);
    });
    upstream.bind({ port: 0, address: local }); // sends wait until it is bound
    clients.set(key, client);
    if (clients.size > MAX_CLIENTS) {
      const [oldest] = clients.values();
      if (oldest) {
        clients.delete(oldest.key);
        oldest.upstream.close();
      }
    }
    return client;
  };

  front.on('message', (bytes, from) => handle('request', clientFor(from), bytes));
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind({ port: 0, address: local }, () => {
      front.off('error', reject);
      resolve();
    });
  });

  function summary(): string {
    return events.length === 0
      ? 'no datagram reached the proxy'
      : events
          .map((e) => {
            const from = clients.size > 1 ? ` of ${e.client}` : '';
            const what = `${e.direction} ${e.n}${from} (${e.bytes.length} byte${e.bytes.length === 1 ? '' : 's'})`;
            const words: Record<Fate, string> = {
              deliver: 'delivered',
              drop: 'dropped',
              duplicate: 'delivered again (duplicate)',
              reorder: 'delivered late (reordered)',
            };
            return `${what} ${words[e.fate]}`;
          })
          .join('; ');
  }

  return {
    port: front.address().port,
    seed,
    events,
    count: (direction) => counts[direction],
    clients: () => [...clients.keys()],
    summary,
    arrived: (direction, n, waitOptions = {}) =>
      waitUntil(
        changes,
        () => (counts[direction] >= n ? { value: undefined } : undefined),
        () => ({
          expected: `${n} ${direction === 'request' ? 'datagram(s) from clients' : 'reply datagram(s) from the server'} at the proxy`,
          received: summary(),
        }),
        waitOptions,
      ),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      held.clear();
      const sockets = [front, ...[...clients.values()].map((c) => c.upstream)];
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => closeQuietly(s, resolve))));
    },
  };
}

/**
 * The lossy UDP proxy for tests: createUdpProxy(), closed when the test ends. When the test fails,
 * its message says what the proxy did to each datagram, and the seed of random fates.
 */
export async function startUdpProxy(
  targetPort: number,
  options: UdpProxyOptions = {},
): Promise<LossyUdpProxy> {
  const proxy = await createUdpProxy(targetPort, options);
  closeAfterTest(() => proxy.close());
  onTestFailed(({ task }) => {
    const first = task.result?.errors?.[0];
    if (!first) return;
    first.message += `\n  the UDP proxy: ${proxy.summary()}`;
    if (options.random) {
      first.message += `\n  its random fates came from seed ${proxy.seed}: replay them with COURSE_SEED=${proxy.seed}`;
    }
  });
  return proxy;
}

/** One datagram a UdpPeer received, with its sender (Python's recvfrom gives the same pair). */
export interface Datagram {
  bytes: Buffer;
  address: string;
  port: number;
}

/** A UDP socket on 127.0.0.1 that records every datagram it receives, with bounded waits. */
export class UdpPeer {
  readonly received: Datagram[] = [];
  readonly socket: dgram.Socket;
  /** What this peer sent, to replay it with nc in a failure message. */
  private readonly sent: Buffer[] = [];
  private readonly changes = new Changes();
  private lastPort = 0;

  constructor(socket: dgram.Socket) {
    this.socket = socket;
    socket.on('message', (bytes, from) => {
      this.received.push({ bytes, address: from.address, port: from.port });
      this.changes.notify();
    });
  }

  /** The port this peer is bound to. */
  get port(): number {
    return this.socket.address().port;
  }

  /** The `course nc -u` line that sends the last datagram again. */
  get repro(): string {
    return udpReproLines(this.sent.at(-1) ?? Buffer.alloc(0), this.lastPort);
  }

  /** Sends one datagram to `port`; resolves once the kernel took it, rejects with its error. */
  send(data: string | Uint8Array, port: number, host = '127.0.0.1'): Promise<void> {
    const bytes = Buffer.from(data);
    this.sent.push(bytes);
    this.lastPort = port;
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, port, host, (error) => (error ? reject(error) : resolve())),
    );
  }

  /**
   * Waits until at least `n` datagrams have arrived and returns the first `n`. A failure shows
   * every datagram received, its sender, and an nc line to try it by hand.
   */
  datagrams(n: number, options: WaitOptions & { expected?: string } = {}): Promise<Datagram[]> {
    const expected = options.expected ?? `${n} datagram(s)`;
    return waitUntil<Datagram[]>(
      this.changes,
      () => (this.received.length >= n ? { value: this.received.slice(0, n) } : undefined),
      () => ({
        expected,
        received: describeDatagrams(this.received),
        hint: options.hint,
        repro: options.repro ?? this.repro,
      }),
      options,
    );
  }

  /** Waits for the next datagram, the `n`th, and returns its bytes. */
  async datagram(options: WaitOptions & { expected?: string } = {}): Promise<Buffer> {
    const n = this.received.length + 1;
    const all = await this.datagrams(n, { expected: options.expected ?? 'a datagram', ...options });
    return (all[n - 1] as Datagram).bytes;
  }
}

/** A UDP socket bound on 127.0.0.1 (or `host`), port 0, closed when the test ends. */
export async function udpPeer(host = '127.0.0.1'): Promise<UdpPeer> {
  const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  closeAfterTest(() => new Promise<void>((resolve) => closeQuietly(socket, resolve)));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address: host }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  return new UdpPeer(socket);
}

/**
 * A test's own UDP server: a UdpPeer that answers each datagram to its sender with whatever
 * `answer` returns (several replies for an array, none for undefined). Default: no answer.
 */
export async function startUdpServer(
  answer: (
    bytes: Buffer,
    from: RemoteInfo,
  ) => string | Uint8Array | (string | Uint8Array)[] | undefined = () => undefined,
): Promise<UdpPeer> {
  const peer = await udpPeer();
  peer.socket.on('message', (bytes, from) => {
    const replies = answer(bytes, from);
    for (const reply of Array.isArray(replies) ? replies : replies === undefined ? [] : [replies]) {
      peer.socket.send(reply, from.port, from.address, () => {});
    }
  });
  return peer;
}

/** The datagrams as a learner reads them: one line of text and hex each, with its sender. */
export function describeDatagrams(datagrams: Datagram[]): string {
  if (datagrams.length === 0) return 'no datagram';
  return datagrams
    .map(
      (d, i) =>
        `\n    ${i + 1}. from ${formatHostPort(d.address, d.port)}: ${d.bytes.length === 0 ? 'empty (0 bytes)' : `${asText(d.bytes)}  ${asHex(d.bytes)}  (${d.bytes.length} bytes)`}`,
    )
    .join('');
}

/** `npx course nc -u -w 5 --send 'hello' 127.0.0.1 9000`: send one datagram, print the reply. */
export function udpNcLine(payload: Uint8Array | string, port: number | string, host = '127.0.0.1'): string {
  return ncLine(payload, port, { udp: true, host });
}

/**
 * The exchange as a learner replays it by hand: in a lesson with a server program, start it on
 * port 9000 in one terminal (with the test's flags, see reproSetup()) and send the same datagram
 * in another; elsewhere, send it to `port`.
 */
export function udpReproLines(sent: Uint8Array, port: number): string {
  return withServer(
    (to) => udpNcLine(sent, to),
    port,
    (lesson) => lesson.command('server', ['--port', '9000', ...(currentReproSetup().serverArgs ?? [])]),
  );
}

export interface DatagramRecording {
  /** The UDP server whose exchange is recorded, not yet bound: bound to 127.0.0.1:0, closed after. */
  server: dgram.Socket;
  /** The client's side, sending to `port` (the proxy's). */
  client(port: number): Promise<unknown>;
  /** What the network does on the way (default: delivers everything). */
  proxy?: UdpProxyOptions;
  /** A bound on the whole recording (default 3 s): a build that records never hangs. */
  ms?: number;
}

/**
 * Records one real datagram exchange through the lossy proxy, for the site's diagrams: binds
 * `server`, runs `client`, and returns every datagram as a WireEvent of kind `data` (a dropped
 * one included, at the moment it was lost). Everything is closed afterwards, whatever happened.
 */
export async function recordDatagrams(recording: DatagramRecording): Promise<DatagramEvent[]> {
  const { server, ms = 3_000 } = recording;
  let proxy: LossyUdpProxy | undefined;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.bind({ port: 0, address: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    proxy = await createUdpProxy(server.address().port, recording.proxy);
    await recording.client(proxy.port);
    return [...proxy.events];
  };
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the exchange did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await proxy?.close();
    await new Promise<void>((resolve) => closeQuietly(server, resolve));
  }
}

function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Closes a UDP socket that may already be closed; calls `done` either way. */
function closeQuietly(socket: dgram.Socket, done: () => void): void {
  try {
    socket.close(() => done());
  } catch {
    done(); // ERR_SOCKET_DGRAM_NOT_RUNNING: it was closed already
  }
}
