import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  CLIENT_OPTIONS,
  checkTimeout,
  describeError,
  flushTurnLogs,
  formatAddress,
  MAX_TIMER_MS,
  type ProgramSpec,
  parseCommandLine,
  serverAddressOf,
  turnLog,
  usageText,
} from '../src/index.ts';

const spec: ProgramSpec = {
  name: 'client.ts',
  summary: 'Sends MESSAGE.',
  options: {
    port: { type: 'string', value: 'PORT', description: 'server port' },
    verbose: { type: 'boolean', description: 'say more' },
  },
  positionals: [{ name: 'MESSAGE', description: 'the text to send' }],
};

/** Parses `argv` and reads --port; returns how that exited, with what it wrote. */
function exitOf(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => out.push(String(text)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => err.push(String(text)) > 0);
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw Object.assign(new Error('exit'), { exitCode: code });
  });
  try {
    parseCommandLine(spec, argv).port('port', 0);
    return { code: undefined, stdout: out.join(''), stderr: err.join('') };
  } catch (error) {
    return { code: (error as { exitCode?: number }).exitCode, stdout: out.join(''), stderr: err.join('') };
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseCommandLine', () => {
  test('reads flags and positionals', () => {
    const cli = parseCommandLine(spec, ['--port', '9000', '--verbose', 'hello']);
    expect(cli.port('port', 0)).toBe(9000);
    expect(cli.boolean('verbose')).toBe(true);
    expect(cli.positionals).toEqual(['hello']);
    expect(cli.string('host', '127.0.0.1')).toBe('127.0.0.1');
  });

  test('--help prints the usage on stdout and exits 0', () => {
    const result = exitOf(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(usageText(spec));
    expect(result.stdout).toContain('usage: client.ts [options] MESSAGE');
    expect(result.stdout).toMatch(/--port PORT +server port/);
  });

  test.each([
    [['--prot', '1', 'x'], "client.ts: unknown option '--prot' (see client.ts --help)\n"],
    [['--port', '9000'], 'client.ts: missing MESSAGE (see client.ts --help)\n'],
    [['a', 'b'], "client.ts: unexpected argument 'b' (see client.ts --help)\n"],
  ])('%j exits 2 with one line on stderr', (argv, line) => {
    const result = exitOf(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(line);
  });

  test.each(['-1', '65536', '9000x', 'banana', ''])('port %j is refused with exit 2', (value) => {
    const result = exitOf(['--port', value, 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^client\.ts: .*(port|argument).*\(see client\.ts --help\)\n$/);
  });
});

describe('serverAddressOf', () => {
  const clientSpec: ProgramSpec = { name: 'client.ts', summary: 'Talks.', options: CLIENT_OPTIONS };
  test('--host defaults to 127.0.0.1; --port must be given', () => {
    expect(serverAddressOf(parseCommandLine(clientSpec, ['--port', '9000']))).toEqual({
      host: '127.0.0.1',
      port: 9000,
    });
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => err.push(String(text)) > 0);
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    });
    expect(() => serverAddressOf(parseCommandLine(clientSpec, []))).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
    expect(err.join('')).toBe(
      'client.ts: --port is required: the port the server listens on (see client.ts --help)\n',
    );
  });
});

describe('milliseconds', () => {
  test('a timeout stays within what setTimeout() can wait (past it, Node fires after 1 ms)', () => {
    const timeout = (value: string) =>
      parseCommandLine({ ...spec, options: { timeout: { type: 'string', description: 'ms' } } }, [
        '--timeout',
        value,
        'x',
      ]).milliseconds('timeout', 5000);
    expect(timeout(String(MAX_TIMER_MS))).toBe(MAX_TIMER_MS);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    });
    for (const value of [String(MAX_TIMER_MS + 1), '0']) {
      expect(() => timeout(value), value).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });

  test('checkTimeout refuses an option no timer can wait for, naming it', () => {
    expect(checkTimeout('lineTimeoutMs', 150)).toBe(150);
    for (const ms of [0, 1.5, MAX_TIMER_MS + 1, Number.NaN]) {
      expect(() => checkTimeout('lineTimeoutMs', ms)).toThrow(RangeError);
    }
    expect(() => checkTimeout('lineTimeoutMs', 0)).toThrow(/^lineTimeoutMs must be a whole number from 1 to/);
  });
});

describe('describeError and formatAddress', () => {
  test('socket error codes in words, with the code', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(describeError(error)).toBe('connection refused (ECONNREFUSED)');
    expect(describeError(Object.assign(new Error('x y'), { code: 'EWEIRD' }))).toBe('x y (EWEIRD)');
    expect(describeError(Object.assign(new Error('read EWEIRD: odd'), { code: 'EWEIRD' }))).toBe(
      'odd (EWEIRD)',
    );
    expect(describeError(new Error('plain'))).toBe('plain');
  });

  test('IPv6 addresses get brackets', () => {
    expect(formatAddress('127.0.0.1', 9000)).toBe('127.0.0.1:9000');
    expect(formatAddress('::1', 9000)).toBe('[::1]:9000');
  });
});

describe('turnLog', () => {
  test('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = [];
    const log = turnLog((text) => writes.push(text));
    log('one');
    log('two');
    expect(writes, 'nothing is written before the turn ends').toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    log('three');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes, 'one write per turn, lines in order').toEqual(['one\ntwo\n', 'three\n']);
  });

  test('holds at most maxPending lines, then counts the rest', async () => {
    const writes: string[] = [];
    const log = turnLog((text) => writes.push(text), 2);
    for (const line of ['a', 'b', 'c', 'd', 'e']) log(line);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\n(3 more line(s) not logged: they came faster than the log is written)\n']);
  });

  test('flushTurnLogs writes what waits, before a line that must come after it', () => {
    const writes: string[] = [];
    const log = turnLog((text) => writes.push(text));
    log('datagram from 127.0.0.1:5000: 5 bytes');
    flushTurnLogs();
    writes.push('server.ts: SIGINT, closing the socket and stopping\n');
    expect(writes.join('')).toBe(
      'datagram from 127.0.0.1:5000: 5 bytes\nserver.ts: SIGINT, closing the socket and stopping\n',
    );
  });
});
