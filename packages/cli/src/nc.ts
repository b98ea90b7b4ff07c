/**
 * `course nc`: a small netcat that works wherever Node does (Windows has no `nc`, macOS's has
 * other flags), for the lessons' Play sections and the tests' "try it yourself" lines.
 *
 *   course nc HOST PORT              TCP: stdin to the socket, the socket to stdout; at the end of
 *                                    stdin a half-close (FIN), like `nc -N`; ends when both have
 *   course nc -l [HOST] PORT         TCP: wait for one connection, then the same
 *   course nc -u HOST PORT           UDP: each read of stdin is one datagram; prints the replies
 *                                    and ends --wait seconds after stdin does
 *   course nc -u -l [HOST] PORT      UDP: print every datagram; stdin goes to the last sender
 *
 *   --send TEXT    send TEXT instead of stdin (`\n`, `\r`, `\t`, `\0`, `\\`, `\xHH` escapes): the same
 *                  line works in bash, zsh and PowerShell, with no printf
 *   --file PATH    send the file's bytes instead of stdin
 *   --keep-open    TCP: do not half-close after sending; wait for the peer to close
 *   --hex          show what arrives as hex and text, one line per 16 bytes, instead of as is
 *   --trickle MS   send one byte every MS milliseconds (TCP): a slow client, a slowloris
 *   --send-empty   send one empty datagram (UDP), which no `printf | nc` can
 *   -w, --wait S   UDP: how long to wait for replies after the last datagram (default 1)
 *
 * The tests' "try it yourself" lines use it (`npx course nc --send 'hello\n' 127.0.0.1 9000`),
 * so that a learner can paste them on any system.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net, { isIPv6 } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { describeError, formatAddress, peerAddress, unescapeBytes } from '@course/program';

export const NC_USAGE = `usage: course nc [-u] [--send TEXT | --file PATH] [options] HOST PORT
       course nc -l [-u] [HOST] PORT

  HOST PORT       connect to HOST:PORT (TCP; UDP with -u)
  -l              listen on HOST (default 127.0.0.1) and PORT instead: one TCP connection, or
                  every UDP datagram
  -u              UDP instead of TCP
  --send TEXT     send TEXT instead of what you type; escapes: \\n \\r \\t \\0 \\\\ \\xHH
                  (quote it in single quotes: the same in bash, zsh and PowerShell)
  --file PATH     send the file instead of what you type (UDP: as one datagram)
  --keep-open     TCP: do not half-close after sending; wait for the peer to close
  --hex           show the bytes that arrive as hex and text
  --trickle MS    send one byte every MS milliseconds (TCP)
  --send-empty    send one empty datagram and wait for the reply (UDP)
  -w, --wait S    UDP: seconds to wait for replies after the last datagram (default 1)

stdin goes to the peer and what the peer sends goes to stdout. TCP half-closes at the end of
stdin (as netcat's -N does) and ends when the peer has closed too.`;

/** A problem with the command line, said in one line (exit 2). */
export class NcUsageError extends Error {}

export interface NcStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

interface NcOptions {
  /** What to send instead of stdin (--send, --file). */
  payload?: Buffer;
  keepOpen: boolean;
  udp: boolean;
  listen: boolean;
  hex: boolean;
  trickleMs?: number;
  sendEmpty: boolean;
  waitMs: number;
  host: string;
  port: number;
}

function parse(argv: string[]): NcOptions {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new NcUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const listen = values.l === true;
  if (positionals.length < (listen ? 1 : 2) || positionals.length > 2)
    throw new NcUsageError(
      listen ? 'name the PORT to listen on' : 'name the HOST and the PORT to connect to',
    );
  const [host, port] = positionals.length === 2 ? positionals : ['127.0.0.1', positionals[0]];
  const number = (name: string, text: string | undefined, min: number, max: number) => {
    const value = Number(text);
    if (text === undefined || !/^\d+(\.\d+)?$/.test(text) || value < min || value > max)
      throw new NcUsageError(`${name} must be a number from ${min} to ${max}, not '${text}'`);
    return value;
  };
  if (values.send !== undefined && values.file !== undefined)
    throw new NcUsageError('--send and --file both say what to send: give one');
  let payload: Buffer | undefined;
  try {
    if (values.send !== undefined) payload = unescapeBytes(values.send);
    if (values.file !== undefined) payload = readFileSync(values.file);
  } catch (error) {
    const why = error instanceof RangeError ? error.message : describeError(error);
    throw new NcUsageError(values.send !== undefined ? `--send: ${why}` : `--file ${values.file}: ${why}`);
  }
  const options: NcOptions = {
    payload,
    keepOpen: values['keep-open'] === true,
    udp: values.u === true,
    listen,
    hex: values.hex === true,
    trickleMs: values.trickle === undefined ? undefined : number('--trickle', values.trickle, 0, 60_000),
    sendEmpty: values['send-empty'] === true,
    waitMs: 1000 * number('--wait', values.wait ?? '1', 0, 3600),
    host: host as string,
    port: number('PORT', port, listen ? 0 : 1, 65_535),
  };
  if (options.udp && options.trickleMs !== undefined)
    throw new NcUsageError('--trickle is for TCP: over UDP each byte would be a datagram of its own');
  if (!options.udp && options.sendEmpty)
    throw new NcUsageError('--send-empty is for UDP (-u): TCP has no empty message');
  if (options.sendEmpty && payload)
    throw new NcUsageError('--send-empty sends nothing: drop --send or --file');
  return options;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      u: { type: 'boolean', short: 'u' },
      l: { type: 'boolean', short: 'l' },
      hex: { type: 'boolean' },
      trickle: { type: 'string' },
      'send-empty': { type: 'boolean' },
      send: { type: 'string' },
      file: { type: 'string' },
      'keep-open': { type: 'boolean' },
      wait: { type: 'string', short: 'w' },
    },
  });
}

/** Bytes as `offset  hex…  |text|`, 16 to a line, the way `xxd` and `hexdump -C` show them. */
export function hexLines(bytes: Buffer, offset = 0): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out += `${(offset + at).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${text}|\n`;
  }
  return out;
}

/** Writes what arrives to `out`, as it is or as hex lines, counting the offset across chunks. */
function printer(out: Writable, hex: boolean): (chunk: Buffer) => boolean {
  let offset = 0;
  return (chunk) => {
    const text = hex ? hexLines(chunk, offset) : chunk;
    offset += chunk.length;
    return out.write(text);
  };
}

/**
 * `course nc` as a command: its usage on --help, a usage error in one line (exit 2), else the
 * exit code of the run. bin/course.mjs runs it directly, without the rest of the course command.
 */
export async function ncCommand(argv: string[], io: NcStreams = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${NC_USAGE}\n`);
    return 0;
  }
  try {
    return await nc(argv, io);
  } catch (error) {
    if (!(error instanceof NcUsageError)) throw error;
    io.stderr.write(`course: nc: ${error.message} (see course nc --help)\n`);
    return 2;
  }
}

/** Runs `course nc` to its end; resolves with the exit code (0, or 1 on a network error). */
export async function nc(argv: string[], streams: NcStreams): Promise<number> {
  const options = parse(argv);
  // --send and --file take stdin's place; stdin is not read then.
  const io = options.payload ? { ...streams, stdin: Readable.from([options.payload]) } : streams;
  const fail = (what: string) => (error: NodeJS.ErrnoException) => {
    io.stderr.write(`nc: ${what}: ${describeError(error)}\n`);
    return 1;
  };
  if (options.udp)
    return options.listen
      ? udpListen(options, io).catch(fail(`cannot listen on ${options.host}:${options.port}`))
      : udpConnect(options, io).catch(fail(`cannot send to ${options.host}:${options.port}`));
  return options.listen
    ? tcpListen(options, io).catch(fail(`cannot listen on ${options.host}:${options.port}`))
    : tcpConnect(options, io).catch(fail(`cannot connect to ${options.host}:${options.port}`));
}

/** stdin to the socket (a byte at a time with --trickle), half-closing at its end; the socket to stdout. */
function pipeTcp(socket: net.Socket, options: NcOptions, io: NcStreams): Promise<number> {
  return new Promise((resolve) => {
    const show = printer(io.stdout, options.hex);
    socket.on('data', (chunk: Buffer) => {
      if (!show(chunk)) {
        socket.pause();
        io.stdout.once('drain', () => socket.resume());
      }
    });
    socket.on('error', (error) => {
      io.stderr.write(`nc: ${describeError(error)}\n`);
      resolve(1);
    });
    socket.on('close', (hadError) => {
      io.stdin.unpipe(socket);
      io.stdin.pause();
      if (!hadError) resolve(0);
    });
    if (options.trickleMs === undefined) {
      // Ends the socket (a FIN) at the end of stdin unless --keep-open, and respects backpressure.
      io.stdin.pipe(socket, { end: !options.keepOpen });
      return;
    }
    const trickleMs = options.trickleMs;
    (async () => {
      for await (const chunk of io.stdin as AsyncIterable<Buffer>) {
        for (const byte of chunk) {
          if (socket.destroyed) return;
          socket.write(Buffer.of(byte));
          await new Promise((next) => setTimeout(next, trickleMs));
        }
      }
      if (!socket.destroyed && !options.keepOpen) socket.end();
    })();
  });
}

async function tcpConnect(options: NcOptions, io: NcStreams): Promise<number> {
  const socket = net.connect({ host: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.removeAllListeners('error');
  return pipeTcp(socket, options, io);
}

async function tcpListen(options: NcOptions, io: NcStreams): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  io.stderr.write(`nc: listening on ${formatAddress(options.host, port)}\n`);
  const socket = await new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  server.close(); // one connection, as nc -l
  io.stderr.write(`nc: connection from ${peerAddress(socket)}\n`);
  return pipeTcp(socket, options, io);
}

const udpType = (host: string) => (isIPv6(host) ? 'udp6' : 'udp4');

async function udpConnect(options: NcOptions, io: NcStreams): Promise<number> {
  const socket = dgram.createSocket(udpType(options.host));
  const show = printer(io.stdout, options.hex);
  let failure: Error | undefined;
  socket.on('message', (message) => show(message));
  // An ICMP "port unreachable" comes back as ECONNREFUSED on a connected UDP socket.
  socket.on('error', (error) => {
    failure = error;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const send = (data: Buffer) =>
    new Promise<void>((resolve) =>
      socket.send(data, (error) => {
        failure ??= error ?? undefined;
        resolve();
      }),
    );
  if (options.sendEmpty) await send(Buffer.alloc(0));
  else for await (const chunk of io.stdin as AsyncIterable<Buffer>) await send(chunk);
  await new Promise((resolve) => setTimeout(resolve, options.waitMs));
  socket.close();
  if (failure) {
    // ICMP "port unreachable", which a connected UDP socket reports as ECONNREFUSED.
    io.stderr.write(`nc: ${formatAddress(options.host, options.port)}: ${describeError(failure)}\n`);
    return 1;
  }
  return 0;
}

function udpListen(options: NcOptions, io: NcStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(udpType(options.host));
    const show = printer(io.stdout, options.hex);
    let peer: dgram.RemoteInfo | undefined;
    socket.on('message', (message, from) => {
      peer = from;
      show(message);
    });
    socket.once('error', reject);
    socket.bind({ address: options.host, port: options.port }, () => {
      socket.off('error', reject);
      socket.on('error', (error) => io.stderr.write(`nc: ${describeError(error)}\n`));
      io.stderr.write(`nc: listening on ${formatAddress(options.host, socket.address().port)} (UDP)\n`);
      io.stdin.on('data', (chunk: Buffer) => {
        if (peer) socket.send(chunk, peer.port, peer.address);
        else io.stderr.write('nc: no datagram has arrived yet: nobody to send to\n');
      });
      // UDP has no end of stream: listen until Ctrl-C.
      process.once('SIGINT', () => socket.close(() => resolve(0)));
    });
  });
}
