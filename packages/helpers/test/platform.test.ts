/**
 * How the tests stop the programs they start, on every system: by a signal to the program's
 * group (Linux and macOS), or by a message on its IPC channel (Windows, where a parent cannot
 * send SIGINT). Both ways run here, against a real server started with the program kit.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { connect, LIVENESS_MS, startCommand } from '../src/index.ts';
import { IS_WINDOWS, programStdio } from '../src/platform.ts';

const SERVER = fileURLToPath(new URL('../../program/test/fixtures/tcp-hold.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

async function holdServer() {
  const server = startCommand(process.execPath, ['--import', TSX, SERVER, '--port', '0']);
  await server.listening();
  const peer = await connect(server.port);
  await peer.lines(1, { ms: LIVENESS_MS });
  return { server, peer };
}

describe('stopping a program the test started', () => {
  test.each(['signal', 'message'] as const)(
    'by %s: the program stops as on Ctrl-C, closing its connections, exit 0',
    async (how) => {
      const { server, peer } = await holdServer();
      const result = await server.stop('SIGINT', LIVENESS_MS, how);
      expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('tcp-hold.ts: SIGINT, closing 1 connection(s) and stopping');
      await peer.closed({ allowReset: true, ms: LIVENESS_MS });
    },
  );

  test('a program with nothing left to do exits by itself: the IPC channel does not keep it alive', async () => {
    const program = startCommand(process.execPath, [
      '-e',
      "require('node:process').on('message', () => {}); process.channel?.unref(); console.log('done')",
    ]);
    expect((await program.exit(LIVENESS_MS)).stdout).toBe('done\n');
  });

  test('a group of its own where groups exist, an IPC channel everywhere', () => {
    expect(programStdio()).toEqual({ detached: !IS_WINDOWS, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  });
});
