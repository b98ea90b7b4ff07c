import { EventEmitter } from 'node:events';
import type net from 'node:net';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { closeAfterTest, closedPort, startProxy, startServer, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { ChatError, chat, printAbove } from '#impl/client.ts';
import { Screen } from './support.ts';

/** One turn of the event loop: readline handles what was typed. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A readline prompt `bob> ` on a Screen, as on a terminal; `input` is the keyboard. */
function terminal(columns = 80) {
  const screen = new Screen(columns);
  const input = new PassThrough();
  const rl = readline.createInterface({ input, output: screen, terminal: true, prompt: 'bob> ' });
  closeAfterTest(() => rl.close());
  const entered: string[] = [];
  rl.on('line', (line) => entered.push(line));
  screen.write('$ earlier output\n');
  rl.prompt();
  return { screen, input, rl, entered };
}

/** Collects what is written to it, as text. */
function collector() {
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8').on('data', (piece: string) => {
    text += piece;
  });
  return { output, text: () => text };
}

/**
 * A stand-in chat server that plays a script: `answer(line, socket)` is called with each line the
 * client sends. It records every byte it received, and `closed` resolves when the client is gone.
 */
async function scriptedServer(answer: (line: string, socket: net.Socket) => void) {
  const received: Buffer[] = [];
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const port = await startServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      received.push(Buffer.from(text));
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        answer(pending.slice(0, newline), socket);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
    socket.on('end', () => socket.end());
    socket.on('close', resolveClosed);
  });
  return { port, closed, received: () => Buffer.concat(received).toString('utf8') };
}

describe('step 6: print above the line being typed', () => {
  test('without a terminal, each line is printed as it is, control characters made harmless', () => {
    const { output, text } = collector();
    printAbove(output, undefined, 'alice: hi');
    printAbove(output, undefined, '* carol joined');
    printAbove(output, undefined, 'mallory: \x1b[2J\x07gotcha');
    printAbove(output, undefined, 'mallory: evil\u202etxt.exe \u2066x\u2069\tend');
    expect(text(), 'control characters and bidi overrides from the room must not reach the terminal').toBe(
      'alice: hi\n* carol joined\nmallory: \uFFFD[2J\uFFFDgotcha\nmallory: evil\uFFFDtxt.exe \uFFFDx\uFFFD\tend\n',
    );
  });

  test('on a terminal, a line arrives above the prompt, and what was typed stays', async () => {
    const { screen, input, rl, entered } = terminal();
    input.write('hel');
    await tick();
    printAbove(screen, rl, 'alice: hi');
    expect(
      screen.rows,
      'the line replaces the prompt; the prompt and `hel` are drawn again below it',
    ).toEqual(['$ earlier output', 'alice: hi', 'bob> hel']);
    input.write('lo\r');
    await tick();
    expect(entered, 'typing goes on where it was').toEqual(['hello']);
  });

  test('the cursor stays where it was in the typed line', async () => {
    const { screen, input, rl, entered } = terminal();
    input.write('helo');
    await tick();
    input.write('\x1b[D'); // the left arrow: the cursor goes before the o
    await tick();
    printAbove(screen, rl, 'alice: hi');
    expect(screen.rows, 'the line above, the prompt and `helo` below it').toEqual([
      '$ earlier output',
      'alice: hi',
      'bob> helo',
    ]);
    input.write('l'); // typed where the cursor was
    await tick();
    input.write('\r');
    await tick();
    expect(entered, 'redraw with rl.prompt(true): prompt() alone moves the cursor to the start').toEqual([
      'hello',
    ]);
  });

  test('a typed line longer than the terminal is wide is erased and drawn again whole', async () => {
    const { screen, input, rl, entered } = terminal(20);
    for (const key of 'abcdefghijklmnopqrstuvwxyz0123X') input.write(key);
    input.write('\x7f'); // backspace: readline redraws the line, two rows high
    await tick();
    printAbove(screen, rl, 'alice: hi');
    printAbove(screen, rl, 'carol: a long line!');
    expect(
      screen.rows,
      "go up to the prompt's first row (rl.getCursorPos().rows), erase down, print, then redraw",
    ).toEqual([
      '$ earlier output',
      'alice: hi',
      'carol: a long line!',
      'bob> abcdefghijklmno',
      'pqrstuvwxyz0123',
    ]);
    input.write('\r');
    await tick();
    expect(entered, 'the long line typed, whole, after the redraw').toEqual([
      'abcdefghijklmnopqrstuvwxyz0123',
    ]);
  });
});

describe('step 7: the terminal client', () => {
  test('sends the nickname, then each line once joined, shows every line from the server, and ends on close', async () => {
    const server = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.write('OK bob\n* carol joined\ncarol: héllo bob\n');
      else if (line === 'hi carol') socket.write('USERS bob,carol\n');
      else if (line === '/quit') socket.end('BYE\n');
    });
    const input = new PassThrough();
    input.write('hi carol\n\n/quit\n'); // typed before the server answered: held until OK
    const { output, text } = collector();
    await within(chat({ port: server.port, nick: 'bob', input, output }), () => ({
      expected: 'chat() to resolve once the server has closed the connection',
      received: text(),
    }));
    expect(text(), 'every line from the server, in order, each printed once').toBe(
      'OK bob\n* carol joined\ncarol: héllo bob\nUSERS bob,carol\nBYE\n',
    );
    expect(server.received(), 'the nickname first, then each non-empty line').toBe('bob\nhi carol\n/quit\n');
  });

  test('a refused nickname rejects with `cannot join as NICK: <reason>`; nothing typed is sent', async () => {
    const server = await scriptedServer((_line, socket) => socket.write('ERR nickname taken\n'));
    const input = new PassThrough();
    input.write('hello\n');
    const error = await chat({ port: server.port, nick: 'alice', input, output: collector().output }).catch(
      (e: unknown) => e,
    );
    expect(error, 'reject with a ChatError').toBeInstanceOf(ChatError);
    expect((error as ChatError).message, 'the reason after `ERR `, in one sentence').toBe(
      'cannot join as alice: nickname taken',
    );
    expect((error as ChatError).code, 'a refused nickname: code ENICK').toBe('ENICK');
    expect((error as ChatError).name, "the error's name, as a stack trace shows it").toBe('ChatError');
    await within(server.closed, () => ({ expected: 'the client to close the connection after ERR' }));
    expect(server.received(), 'until OK, every line is a nickname: send nothing else').toBe('alice\n');
  });

  test('the end of the input half-closes; chat() resolves when the server closes', async () => {
    const server = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.write('OK bob\n');
    });
    const input = new PassThrough();
    input.end('last words\n');
    const { output, text } = collector();
    await within(chat({ port: server.port, nick: 'bob', input, output }), () => ({
      expected: 'chat() to resolve: at the end of the input, socket.end(); the server then closes',
      received: text(),
    }));
    expect(server.received(), 'the nickname, then the line typed before the end of the input').toBe(
      'bob\nlast words\n',
    );
  });

  test('a connection that fails, or ends before OK, or a server line over 1 MiB, rejects with a clear ChatError', async () => {
    const reset = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.write('OK bob\n');
      else socket.resetAndDestroy(); // the first line bob types: the server's machine goes away
    });
    const early = await scriptedServer((_line, socket) => socket.end()); // closes without an answer
    const huge = await scriptedServer((_line, socket) => {
      socket.write(`OK bob\n${'x'.repeat(1024 * 1024 + 2)}`); // and no \n: a line with no end
    });
    const run = (port: number, typed: string) => {
      const input = new PassThrough();
      input.write(typed);
      const { output, text } = collector();
      return chat({ port, nick: 'bob', input, output }).then(
        () => ({ error: undefined, text: text() }),
        (error: ChatError) => ({ error, text: text() }),
      );
    };
    const [afterReset, beforeOk, tooLong] = await Promise.all([
      run(reset.port, 'hello\n'),
      run(early.port, ''),
      run(huge.port, ''),
    ]);
    expect(
      [afterReset.error?.message, afterReset.error?.code],
      'once connected, a reset is `connection to HOST:PORT failed: <describeError>`, with its code',
    ).toEqual([
      `connection to 127.0.0.1:${reset.port} failed: connection reset by peer (ECONNRESET)`,
      'ECONNRESET',
    ]);
    expect(afterReset.text, 'what bob saw before the reset').toBe('OK bob\n');
    expect(
      [beforeOk.error?.message, beforeOk.error?.code],
      'a server that closes before OK: bob never joined',
    ).toEqual([`127.0.0.1:${early.port} closed the connection before we joined`, 'ECONNRESET']);
    expect(
      [tooLong.error?.message, tooLong.error?.code],
      'a line over MAX_SERVER_LINE_BYTES from the server: stop, memory stays bounded',
    ).toEqual([`127.0.0.1:${huge.port} sent a line longer than 1048576 bytes`, 'EMSGSIZE']);
  });

  test('a typed line over 4096 bytes is not sent, and says so; one of 4096 bytes is', async () => {
    const server = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.write('OK bob\n');
      else if (line === '/quit') socket.end('BYE\n');
    });
    const input = new PassThrough();
    input.write(`${'x'.repeat(4097)}\n${'é'.repeat(2048)}\n/quit\n`);
    const { output, text } = collector();
    await within(chat({ port: server.port, nick: 'bob', input, output }), () => ({
      expected: 'chat() to resolve after BYE',
      received: text(),
    }));
    expect(text(), 'the server would refuse it and drop bob: tell bob instead').toBe(
      'OK bob\n(not sent: longer than 4096 bytes)\nBYE\n',
    );
    expect(
      server.received(),
      'the line of exactly 4096 bytes (2048 × é) is sent; the longer one is not',
    ).toBe(`bob\n${'é'.repeat(2048)}\n/quit\n`);
  });

  test('on a terminal, Ctrl-C sends /quit; a second Ctrl-C closes at once, and the prompt is erased', async () => {
    const server = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.write('OK bob\n'); // and /quit gets no answer: a stuck server
    });
    const screen = new Screen(40);
    const input = new PassThrough();
    const done = chat({ port: server.port, nick: 'bob', input, output: screen, terminal: true });
    done.catch(() => {}); // awaited below; a failure before then is reported there
    await within(
      Promise.race([
        new Promise<void>((resolve) => {
          const check = () => (screen.rows.join('\n') === 'OK bob\nbob>' ? resolve() : undefined);
          screen.on('drawn', check);
          check();
        }),
        done.then(() => {}), // chat() failing at once fails the test at once, with its error
      ]),
      () => ({ expected: 'the OK line, then the prompt `bob> `', received: JSON.stringify(screen.rows) }),
    );
    input.write('\x03'); // Ctrl-C: readline emits 'SIGINT'
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (server.received() === 'bob\n/quit\n') resolve();
        }, 10);
        closeAfterTest(() => clearInterval(check));
        const stop = () => clearInterval(check);
        done.then(stop, stop);
      }),
      () => ({ expected: 'the first Ctrl-C to send /quit', received: JSON.stringify(server.received()) }),
    );
    input.write('\x03'); // the server does not answer: the second one closes without waiting
    await within(done, () => ({
      expected: 'chat() to resolve after a second Ctrl-C (socket.destroy())',
      received: JSON.stringify(screen.rows),
    }));
    expect(screen.rows, 'on close, the prompt is erased: the shell draws its own there').toEqual(['OK bob']);
  });

  test('lines the network cut anywhere, even inside a character, are shown whole', async () => {
    const server = await scriptedServer((line, socket) => {
      if (line === 'bob') socket.end('OK bob\ncarol: 你好 🎉\n');
    });
    const proxy = await startProxy(server.port, { cut: 'bytes', direction: 'reply' });
    const { output, text } = collector();
    await chat({ port: proxy.port, nick: 'bob', input: new PassThrough(), output });
    expect(text(), 'split the bytes into lines first, then decode each whole line').toBe(
      'OK bob\ncarol: 你好 🎉\n',
    );
  });

  test('typing faster than the server reads pauses the input until the socket drains', async () => {
    // A room that takes the nickname and then reads nothing: what bob types piles up. It counts
    // what it receives, and reads again when the test says so.
    let room: net.Socket | undefined;
    let received = 0;
    const changed = new EventEmitter();
    const port = await startServer((socket) => {
      room = socket;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        changed.emit('data');
      });
      socket.once('data', () => {
        socket.write('OK bob\n');
        socket.pause();
      });
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    closeAfterTest(() => process.off('warning', onWarning));
    // 16 MiB typed at once: far more than the kernel's buffers and Node's hold.
    const input = new PassThrough();
    const typed = 16 * 1024 * 1024;
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < typed / line.length; i++) input.write(line);
    /** What chat() has not read from the input yet. */
    const unread = () => input.readableLength + input.writableLength;
    const paused = new Promise<void>((resolve) => input.once('pause', () => resolve()));
    const done = chat({ port, nick: 'bob', input, output: collector().output });
    done.catch(() => {}); // the test ends it by closing the room
    closeAfterTest(() => room?.destroy());
    // chat() ending first (a TODO's error, say) fails the test at once, with its error.
    const ended = done.then(() => {
      throw new Error('chat() resolved while the room was still open, before pausing its input');
    });
    await within(
      Promise.race([paused, ended]),
      () => ({
        expected: 'chat() to pause its input once socket.write() returns false (the room reads nothing)',
        received: `${typed - unread()} of ${typed} bytes typed were read from the input`,
        hint: "when socket.write() returns false, rl.pause(), and rl.resume() on the socket's 'drain'",
      }),
      { ms: 5_000 },
    );
    expect(unread(), 'the input is paused while most of what was typed is still unread').toBeGreaterThan(
      typed / 2,
    );
    expect(
      warnings.filter((w) => w.includes('MaxListenersExceeded')),
      "one 'drain' listener at a time: add it only when you pause, not for every write() that returns false",
    ).toEqual([]);
    // The room reads again: the socket drains, and every line typed must follow, to the last.
    const total = 'bob\n'.length + typed;
    const all = new Promise<void>((resolve) => {
      const check = () => (received >= total ? resolve() : undefined);
      changed.on('data', check);
      check();
    });
    room?.resume();
    await within(
      Promise.race([all, ended]),
      () => ({
        expected: `the room, reading again, to receive everything bob typed: ${total} bytes`,
        received: `${received} bytes arrived; ${unread()} bytes typed are still unread by chat()`,
        hint: "pause only when socket.write() returns false, and rl.resume() on the socket's 'drain': otherwise the input stays paused for good",
      }),
      { ms: 10_000 },
    );
  });

  test('a refused connection rejects with `cannot connect to HOST:PORT: connection refused (ECONNREFUSED)`', async () => {
    const port = await closedPort();
    const error = await chat({
      port,
      nick: 'bob',
      input: new PassThrough(),
      output: collector().output,
    }).catch((e: unknown) => e);
    expect(error, "reject with a ChatError on the socket's 'error'").toBeInstanceOf(ChatError);
    expect((error as ChatError).message, 'one sentence naming the address and the code').toBe(
      `cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
  });

  test('on a terminal: a prompt once joined, and lines from the room above the line being typed', async () => {
    let room: net.Socket | undefined;
    const server = await scriptedServer((line, socket) => {
      room = socket;
      if (line === 'bob') socket.write('OK bob\n');
      if (line === '/quit') socket.end('BYE\n');
    });
    const screen = new Screen(40);
    const input = new PassThrough();
    const done = chat({ port: server.port, nick: 'bob', input, output: screen, terminal: true });
    // Waits until the screen shows `rows`; fails at once if chat() ends first.
    const ended = done.then(
      () => 'chat() resolved',
      (error: Error) => `chat() failed: ${error.message}`,
    );
    const shows = (rows: string[], expected: string) =>
      within(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (JSON.stringify(screen.rows) !== JSON.stringify(rows)) return;
            screen.off('drawn', check);
            resolve();
          };
          screen.on('drawn', check);
          check();
          ended.then((why) => reject(new Error(`${why} before the screen showed ${JSON.stringify(rows)}`)));
        }),
        () => ({ expected, received: JSON.stringify(screen.rows) }),
      );
    await shows(['OK bob', 'bob>'], 'the OK line, then the prompt `bob> `');
    input.write('hel');
    await tick();
    room?.write('carol: hey bob\n');
    await shows(['OK bob', 'carol: hey bob', 'bob> hel'], 'the line from the room above the typed `hel`');
    // Enter: the line goes, and the prompt is drawn again at once, on the next row (the room says nothing).
    const prompted = shows(
      ['OK bob', 'carol: hey bob', 'bob> hello', 'bob>'],
      'after Enter, the prompt `bob> ` again on the next row: reader.prompt() after each line typed',
    );
    input.write('lo\r');
    await prompted;
    input.write('/quit\r');
    await within(done, () => ({
      expected: 'chat() to resolve after BYE',
      received: JSON.stringify(screen.rows),
    }));
    expect(screen.rows, 'the BYE line is shown too').toContain('BYE');
  });
});
