/**
 * What every lesson program shares, so that each lesson's files hold only its networking:
 * command-line flags with --help, the exit-code convention (0 ok, 1 network failure,
 * 2 bad usage), plain words for socket error codes, and a clean stop on SIGINT / SIGTERM.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import { realpathSync } from 'node:fs';
import { type AddressInfo, isIPv6, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Where a program bundled by the course's test harness (packages/helpers' bundle.ts) keeps the
 * URL of its own file: in one bundle, process.argv[1] is the bundle, whichever module asks.
 */
export const MAIN_KEY = 'course.program.main';

/** True when the module at `moduleUrl` is the program being run (`tsx server.ts`), not imported. */
export function isMain(moduleUrl: string): boolean {
  const bundled = (globalThis as Record<symbol, unknown>)[Symbol.for(MAIN_KEY)];
  if (typeof bundled === 'string') return bundled === moduleUrl;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Exit codes shared by every program of the course. */
export const EXIT = { ok: 0, network: 1, usage: 2 } as const;

/** Prints one line on stderr and exits with `code`. */
export function fail(message: string, code: number = EXIT.network): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Shown in --help, for example `port to listen on (0: any free port)`. */
  description: string;
  /** Shown in --help as the value's name, for example `PORT`. */
  value?: string;
}

export interface ProgramSpec {
  /** `server.ts` */
  name: string;
  /** One sentence: what the program does. */
  summary: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments, all required, in order. */
  positionals?: { name: string; description: string }[];
}

/** The parsed command line, with typed accessors that exit 2 with one clear line when a value is bad. */
export interface CommandLine {
  positionals: string[];
  string(name: string, fallback: string): string;
  boolean(name: string): boolean;
  integer(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  /** A delay for setTimeout(): a whole number of ms from `min` (default 1) to MAX_TIMER_MS. */
  milliseconds(name: string, fallback: number, min?: number): number;
  port(name: string, fallback: number): number;
  usageError(message: string): never;
}

/** The flags every client has: --host (default 127.0.0.1) and --port, which it must be given. */
export const CLIENT_OPTIONS: ProgramSpec['options'] = {
  host: { type: 'string', value: 'HOST', description: 'server address (default 127.0.0.1)' },
  port: { type: 'string', value: 'PORT', description: 'server port (required)' },
};

/** The server a client goes to, from CLIENT_OPTIONS: exits 2 with one line when --port is missing. */
export function serverAddressOf(cli: CommandLine): { host: string; port: number } {
  if (cli.string('port', '') === '') cli.usageError('--port is required: the port the server listens on');
  return { host: cli.string('host', '127.0.0.1'), port: cli.integer('port', 0, { min: 1, max: 65535 }) };
}

/**
 * The longest delay setTimeout() can wait: 2^31 − 1 ms, about 24.8 days. Past it, Node warns and
 * fires after 1 ms instead, so every timeout a program accepts stays within it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a delay for setTimeout(), checked: a whole number from 1 to MAX_TIMER_MS, or a RangeError naming `name`. */
export function checkTimeout(name: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be a whole number from 1 to ${MAX_TIMER_MS}, not ${ms}`);
  }
  return ms;
}

export function usageText(spec: ProgramSpec): string {
  const names = (spec.positionals ?? []).map((p) => p.name);
  const rows: [string, string][] = [
    ...Object.entries(spec.options).map(([flag, o]): [string, string] => [
      `--${flag}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
      o.description,
    ]),
    ['--help', 'show this help and exit'],
  ];
  const width = Math.max(...rows.map(([left]) => left.length), ...names.map((n) => n.length));
  const lines = [
    `usage: ${spec.name} [options]${names.map((n) => ` ${n}`).join('')}`,
    '',
    spec.summary,
    '',
    ...(spec.positionals ?? []).map((p) => `  ${p.name.padEnd(width)}  ${p.description}`),
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Parses `argv` (default: this process's arguments) against `spec`. `--help` prints the usage
 * and exits 0; an unknown flag or a missing argument exits 2 with one line on stderr.
 */
export function parseCommandLine(spec: ProgramSpec, argv = process.argv.slice(2)): CommandLine {
  const usageError = (message: string): never =>
    fail(`${spec.name}: ${message} (see ${spec.name} --help)`, EXIT.usage);

  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(Object.entries(spec.options).map(([k, o]) => [k, { type: o.type }])),
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    // parseArgs says for example: Unknown option '--prot'. To specify a positional argument ...
    const first = String((error as Error).message).split(/\.\s/)[0] ?? 'bad arguments';
    return usageError(first.charAt(0).toLowerCase() + first.slice(1));
  }
  if (values.help) {
    process.stdout.write(usageText(spec));
    process.exit(EXIT.ok);
  }
  const expected = spec.positionals ?? [];
  if (positionals.length < expected.length) {
    usageError(`missing ${expected[positionals.length]?.name}`);
  }
  if (positionals.length > expected.length) {
    usageError(`unexpected argument '${positionals[expected.length]}'`);
  }

  const integer = (
    name: string,
    fallback: number,
    { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
  ): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      return usageError(`--${name} must be a whole number ${range}, not '${raw}'`);
    }
    return n;
  };
  return {
    positionals,
    usageError,
    string: (name, fallback) => {
      const raw = values[name];
      return typeof raw === 'string' ? raw : fallback;
    },
    boolean: (name) => values[name] === true,
    integer,
    milliseconds: (name, fallback, min = 1) => integer(name, fallback, { min, max: MAX_TIMER_MS }),
    port: (name, fallback) => integer(name, fallback, { min: 0, max: 65535 }),
  };
}

/** Plain words for the error codes a socket program meets. */
const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'the other side closed the connection',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EMSGSIZE: 'message too long',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EEXIST: 'already exists',
};

/** `connection refused (ECONNREFUSED)` for an error with a `code`, else the error's message. */
export function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_WORDS[code]) return `${ERRNO_WORDS[code]} (${code})`;
  // Node's own messages start with the call and the code (`connect ECONNREFUSED 127.0.0.1:9`),
  // or with the code alone (`ENOENT: no such file or directory, open '...'`).
  if (code) return `${(error as Error).message.replace(new RegExp(`^(\\w+ )?${code}:? *`), '')} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** `127.0.0.1:9000`, or `[::1]:9000` for IPv6. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `127.0.0.1:52144` for the far end of a connected socket. */
export function peerAddress(socket: Socket): string {
  return formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
}

/**
 * The line every server prints first, once it accepts connections: `listening on HOST:PORT`,
 * with the real port (useful with `--port 0`). Tests and scripts wait for it.
 */
export function announceListening(server: Server): void {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  console.log(`listening on ${formatAddress(address.address, address.port)}`);
}

/**
 * The same first line for a UDP server, once its socket is bound: `listening on HOST:PORT`.
 * UDP has no listen() call, but a bound socket already receives every datagram sent to it.
 */
export function announceBound(socket: UdpSocket): void {
  const { address, port } = socket.address();
  console.log(`listening on ${formatAddress(address, port)}`);
}

/**
 * On SIGINT (Ctrl-C) or SIGTERM: stop accepting, close every open connection, exit 0.
 * Connections get `end()` (a polite FIN) and are destroyed if they linger. The process then
 * exits by itself once nothing is left to do: clean-up that a connection's 'close' started
 * (removing a half-written file, say) finishes first. Whatever a peer does, it exits within a
 * second.
 */
export function stopOnSignals(server: Server, name = basename(process.argv[1] ?? 'server')): void {
  const open = new Set<Socket>();
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  const stop = (signal: NodeJS.Signals) => {
    flushTurnLogs();
    console.log(`${name}: ${signal}, closing ${open.size} connection(s) and stopping`);
    // Not process.exit() once the server has closed: that would cut short what the connections'
    // 'close' handlers started. The bound only keeps a stuck handle from holding us up.
    setTimeout(() => process.exit(EXIT.ok), 900).unref();
    server.close();
    for (const socket of open) {
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
    }
  };
  onStopSignal(stop);
}

/**
 * Calls `stop` on the first SIGINT or SIGTERM, and absorbs every later one while the stop runs.
 * Not `process.once()`: Ctrl-C in a terminal reaches every process of the foreground group, and
 * `npx tsx` relays it to the program again when the program is slow to confirm; with no listener
 * left, that second SIGINT would kill the program mid-clean-up (exit 130). The stop itself is
 * bounded, so nothing is lost by ignoring the rest. A message 'SIGINT' or 'SIGTERM' on the IPC
 * channel, where there is one, does the same.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Windows has no signals a parent can send: a parent that started us with an IPC channel (the
  // course's tests do) asks with the signal's name as a message. The channel must not keep us
  // alive: unref'd, the program still exits by itself once its work is done.
  if (process.send) {
    process.on('message', (message) => {
      if (message === 'SIGINT' || message === 'SIGTERM') onSignal(message);
    });
    process.channel?.unref();
  }
}

export interface ListenOptions {
  /** Address to bind: 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface). */
  host: string;
  /** 0 asks the kernel for any free port. */
  port: number;
  /** How many connections may wait, handshake done, before the program accepts them. */
  backlog?: number;
}

/** Node's default listen backlog, used unless --backlog is given. */
export const DEFAULT_BACKLOG = 511;

/** Binds and listens; resolves with the bound address, rejects with the error (EADDRINUSE...). */
export function listenOn(server: Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    // Both listeners go whatever happens, so that a later listen() on this server starts clean.
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError).once('listening', onListening);
    try {
      server.listen({ host, port, backlog });
    } catch (error) {
      server.off('error', onError); // a bad port or host throws at once instead
      onError(error as Error);
    }
  });
}

/** A server program: its own flags, how to build the server, and optionally how to listen. */
export interface ServerProgram {
  /** The program's name, summary and own options; --host, --port and --backlog are added. */
  spec: ProgramSpec;
  create(cli: CommandLine): Server;
  listen?(server: Server, options: ListenOptions): Promise<unknown>;
}

/**
 * Runs a server program by the course's conventions: `--host` (default 127.0.0.1), `--port`
 * (default 0), `--backlog`; prints `listening on HOST:PORT` once accepting; exits 1 with one
 * line when it cannot listen; stops cleanly on SIGINT / SIGTERM.
 */
export function runServerProgram(program: ServerProgram, argv = process.argv.slice(2)): void {
  const spec: ProgramSpec = {
    ...program.spec,
    options: {
      host: { type: 'string', value: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
      port: { type: 'string', value: 'PORT', description: 'port to listen on (default 0: any free port)' },
      backlog: {
        type: 'string',
        value: 'N',
        description: `connections waiting to be accepted (default ${DEFAULT_BACKLOG})`,
      },
      ...program.spec.options,
    },
  };
  const cli = parseCommandLine(spec, argv);
  const options: ListenOptions = {
    host: cli.string('host', '127.0.0.1'),
    port: cli.port('port', 0),
    backlog: cli.integer('backlog', DEFAULT_BACKLOG, { min: 1 }),
  };
  const server = program.create(cli);
  // Ready for Ctrl-C before anyone can read `listening on` and send one.
  stopOnSignals(server, spec.name);
  (program.listen ?? listenOn)(server, options).then(
    () => announceListening(server),
    (error) =>
      fail(
        `cannot listen on ${formatAddress(options.host, options.port)}: ${describeError(error)}`,
        EXIT.network,
      ),
  );
}

/** Where a UDP server binds. */
export interface BindOptions {
  /** Address to bind: 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface). */
  host: string;
  /** 0 asks the kernel for any free port. */
  port: number;
}

/** `udp6` for an IPv6 address (`::1`, `::`), else `udp4`: a UDP socket has one address family. */
export function udpTypeFor(host: string): 'udp4' | 'udp6' {
  return isIPv6(host) ? 'udp6' : 'udp4';
}

/** Binds a UDP socket; resolves with the bound address, rejects with the error (EADDRINUSE...). */
export function bindOn(socket: UdpSocket, { host, port }: BindOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port }, () => {
      socket.off('error', reject);
      resolve(socket.address());
    });
  });
}

/** The logs made by turnLog(), flushed before a stop line and at exit. */
const turnLogs = new Set<() => void>();

/**
 * A log that writes its lines once per turn of the event loop, not once per line. Node writes
 * to a terminal, a file and (on Linux and macOS) a pipe synchronously: at a line per datagram,
 * those writes cost the UDP server of lesson 05 as much as its answers (`npm run bench -- udp`).
 * Lines keep their order and nothing is lost at exit. At most `maxPending` lines wait for a turn:
 * past them lines are only counted, and the count is written, so a flood cannot grow the log.
 */
export function turnLog(
  write: (text: string) => void = (text) => process.stdout.write(text),
  maxPending = 10_000,
): (line: string) => void {
  let pending: string[] = [];
  let dropped = 0;
  const flush = () => {
    if (dropped > 0)
      pending.push(`(${dropped} more line(s) not logged: they came faster than the log is written)`);
    if (pending.length > 0) write(`${pending.join('\n')}\n`);
    pending = [];
    dropped = 0;
  };
  if (turnLogs.size === 0) process.once('exit', flushTurnLogs);
  turnLogs.add(flush);
  return (line) => {
    if (pending.length === 0 && dropped === 0) setImmediate(flush);
    if (pending.length < maxPending) pending.push(line);
    else dropped++;
  };
}

/** Writes what every turnLog() holds now: before a line that must come after them. */
export function flushTurnLogs(): void {
  for (const flush of turnLogs) flush();
}

/**
 * On SIGINT (Ctrl-C) or SIGTERM: close the UDP socket and exit 0. There are no connections to
 * close; the process exits within a second whatever happens.
 */
export function stopUdpOnSignals(socket: UdpSocket, name = basename(process.argv[1] ?? 'server')): void {
  const stop = (signal: NodeJS.Signals) => {
    flushTurnLogs();
    console.log(`${name}: ${signal}, closing the socket and stopping`);
    setTimeout(() => process.exit(EXIT.ok), 500).unref();
    try {
      socket.close(() => process.exit(EXIT.ok));
    } catch {
      process.exit(EXIT.ok); // already closed
    }
  };
  onStopSignal(stop);
}

/** A UDP server program: its own flags, how to build its socket, and optionally how to bind it. */
export interface UdpServerProgram {
  /** The program's name, summary and own options; --host and --port are added. */
  spec: ProgramSpec;
  /** Builds the socket, of `type` udp4 or udp6 as --host asks (udpTypeFor), not yet bound. */
  create(cli: CommandLine, type: 'udp4' | 'udp6'): UdpSocket;
  bind?(socket: UdpSocket, options: BindOptions): Promise<unknown>;
}

/**
 * Runs a UDP server program by the course's conventions: `--host` (default 127.0.0.1), `--port`
 * (default 0); prints `listening on HOST:PORT` once bound; exits 1 with one line when it cannot
 * bind; closes its socket and exits 0 on SIGINT / SIGTERM.
 */
export function runUdpServerProgram(program: UdpServerProgram, argv = process.argv.slice(2)): void {
  const spec: ProgramSpec = {
    ...program.spec,
    options: {
      host: { type: 'string', value: 'HOST', description: 'address to bind (default 127.0.0.1)' },
      port: { type: 'string', value: 'PORT', description: 'port to bind (default 0: any free port)' },
      ...program.spec.options,
    },
  };
  const cli = parseCommandLine(spec, argv);
  const options: BindOptions = { host: cli.string('host', '127.0.0.1'), port: cli.port('port', 0) };
  const socket = program.create(cli, udpTypeFor(options.host));
  (program.bind ?? bindOn)(socket, options).then(
    () => {
      // Signal handlers first: a test (or a person) may send SIGINT the moment the line appears.
      stopUdpOnSignals(socket, spec.name);
      announceBound(socket);
    },
    (error) =>
      fail(
        `cannot listen on ${formatAddress(options.host, options.port)}: ${describeError(error)}`,
        EXIT.network,
      ),
  );
}

/**
 * Bytes as the text of one single-quoted argument that bash, zsh and PowerShell all pass on
 * unchanged: printable characters as they are, and escapes for the rest (`\n`, `\r`, `\t`, `\0`,
 * `\\`, and `\xHH` for any other byte; a `'` is `\x27`, so the quotes never need escaping).
 * `unescapeBytes` turns it back into the same bytes: `course nc --send` does.
 */
export function escapeBytes(bytes: Uint8Array): string {
  const named: Record<number, string> = { 0: '\\0', 9: '\\t', 10: '\\n', 13: '\\r', 39: '\\x27', 92: '\\\\' };
  const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {}
  // Not UTF-8: printable ASCII as it is, every other byte in hex.
  if (text === undefined)
    return [...bytes]
      .map((b) => named[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : hex(b)))
      .join('');
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (named[code] !== undefined) out += named[code];
    // Controls (C0, DEL, C1) and bidi overrides would act on a terminal: shown as their bytes.
    else if (
      code < 0x20 ||
      (code >= 0x7f && code < 0xa0) ||
      /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(ch)
    )
      out += [...Buffer.from(ch)].map(hex).join('');
    else out += ch;
  }
  return out;
}

/** The bytes `escapeBytes` wrote; throws a RangeError naming a malformed escape. */
export function unescapeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '0': 0, '\\': 92 };
  let plain = '';
  for (let at = 0; at < text.length; at++) {
    const ch = text[at] as string;
    if (ch !== '\\') {
      plain += ch;
      continue;
    }
    parts.push(Buffer.from(plain));
    plain = '';
    const next = text[at + 1] ?? '';
    if (simple[next] !== undefined) {
      parts.push(Buffer.of(simple[next]));
      at += 1;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(at + 2, at + 4))) {
      parts.push(Buffer.of(Number.parseInt(text.slice(at + 2, at + 4), 16)));
      at += 3;
    } else {
      throw new RangeError(
        `unknown escape '\\${next}' at character ${at + 1}: use \\n \\r \\t \\0 \\\\ or \\xHH (two hex digits)`,
      );
    }
  }
  parts.push(Buffer.from(plain));
  return Buffer.concat(parts);
}
