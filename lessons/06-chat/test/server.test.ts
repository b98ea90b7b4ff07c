import net from 'node:net';
import {
  closeAfterTest,
  connect,
  lessonOf,
  ncLine,
  reproSetup,
  runCourseLine,
  startProxy,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { ChatRoom, CLOSE_GRACE_MS, LineSplitter, MAX_LINE_BYTES } from '#impl/server.ts';
import { type Chatter, chatter, chatterFrom, joined, startChat } from './support.ts';

/** Feeds `parts` to a new LineSplitter, one push each, and returns every line that came out. */
function split(parts: (string | Buffer)[], maxLineBytes?: number) {
  const splitter = new LineSplitter(maxLineBytes);
  const lines = parts.flatMap((part) => splitter.push(Buffer.from(part)));
  return { lines, splitter };
}

const INVALID = /^ERR invalid nickname/;

/** How to send a line of `n` bytes by hand, for failure messages (printf would print all of it). */
function longLineRepro(n: number, nick?: string): string {
  return [
    `${lessonOf(import.meta.url).command('server', ['--port', '9000'])}     # in one terminal`,
    `${ncLine(`${nick ? `${nick}\n` : ''}${'x'.repeat(n)}\n`, 9000)}     # in another`,
  ].join('\n');
}

/**
 * Reads `c`'s next line and fails unless it is `USERS` and `nicks`, in that order, with a hint
 * for what is wrong: a missing sender, missing or extra names, or only the order.
 */
async function expectUsers(c: Chatter, nicks: string[]): Promise<void> {
  const want = `USERS ${nicks.join(',')}`;
  const [got = ''] = await c.next(1, { hint: 'answer /who to the sender alone: `USERS <nick>,<nick>,...`' });
  if (got === want) return;
  const names = got.startsWith('USERS ') ? got.slice('USERS '.length).split(',') : [];
  const missing = nicks.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !nicks.includes(n));
  let hint: string;
  if (!got.startsWith('USERS ')) {
    hint = 'answer /who with one line: `USERS ` then every nickname, joined with commas';
  } else if (missing.includes(c.name)) {
    hint = `${c.name} asked, and is in the room too: list every joined nickname, the sender's included (this.members.keys())`;
  } else if (missing.length > 0 || extra.length > 0) {
    hint = `list exactly the joined nicknames (this.members.keys()): missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`;
  } else if (names.join(',') === [...nicks].sort().join(',')) {
    hint =
      "the names are sorted by JavaScript's default sort, which compares UTF-16 units: 𠀋 (U+2000B) is two " +
      'units starting 0xD840 and sorts before 﨎 (U+FA0E). Compare code points, or UTF-8 bytes: ' +
      'Buffer.compare(Buffer.from(a), Buffer.from(b))';
  } else {
    hint = 'sort the nicknames by code point: Buffer.compare(Buffer.from(a), Buffer.from(b))';
  }
  throw new WireError(`${c.name} got a wrong answer to /who`, {
    expected: JSON.stringify(want),
    received: JSON.stringify(got),
    hint,
    repro: c.repro ?? c.peer.repro,
  });
}

describe('step 1: cut the byte stream into lines', () => {
  test('push() returns each complete line without its \\n, or the \\r before it', () => {
    expect(split(['hello\nworld\r\n']).lines, 'each line without its \\n, or its \\r\\n').toEqual([
      'hello',
      'world',
    ]);
    expect(split(['one\ntwo\nthree\n']).lines, 'three lines in one chunk are three lines').toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(split(['\n\r\n']).lines, 'empty lines come out as empty strings').toEqual(['', '']);
    expect(split(['a\rb\n']).lines, 'only a \\r right before the \\n is part of the ending').toEqual([
      'a\rb',
    ]);
  });

  test('a line stays inside the splitter until its \\n arrives, however it was cut', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('par')), 'no \\n yet: no line yet').toEqual([]);
    expect(splitter.push(Buffer.from('tial\nne')), 'the kept `par` and `tial` make one line').toEqual([
      'partial',
    ]);
    expect(splitter.push(Buffer.from('xt\r')), 'a \\r alone does not end a line').toEqual([]);
    expect(
      splitter.push(Buffer.from('\n')),
      'the \\r kept from the chunk before is dropped with the \\n',
    ).toEqual(['next']);
  });

  test('UTF-8 cut anywhere, even one byte at a time, comes out whole', () => {
    const text = 'héllo 你好 🎉';
    const bytes = [...Buffer.from(`${text}\n`)].map((byte) => Buffer.from([byte]));
    expect(
      split(bytes).lines,
      'keep bytes until the line is complete, then decode it once: a chunk can end inside a character',
    ).toEqual([text]);
  });

  test('a line of maxLineBytes is fine; one byte more sets tooLong, even before its \\n arrives', () => {
    expect(MAX_LINE_BYTES, 'the protocol allows lines of 4096 bytes').toBe(4096);
    expect(split(['0123456789\r\n'], 10).lines, 'the line ending does not count').toEqual(['0123456789']);
    const long = split(['ok\n01234567890\nafter\n'], 10);
    expect(long.lines, 'lines before the long one still come out; nothing after it').toEqual(['ok']);
    expect(long.splitter.tooLong, 'a complete line of 11 bytes with maxLineBytes 10 sets tooLong').toBe(true);
    expect(
      split(['0123456789\r', '\n'], 10).lines,
      'an unfinished line of maxLineBytes + 1 bytes may end in the \\r of a \\r\\n: not too long yet',
    ).toEqual(['0123456789']);
    const endless = split(['0123456', '789012345'], 10);
    expect(endless.splitter.tooLong, 'a line with no end must not fill the memory: stop at the limit').toBe(
      true,
    );
  });

  test('a line over 4096 bytes gets `ERR line too long`, then the server closes the connection', async () => {
    const { port } = await startChat();
    const fine = await chatter(port, 'fine', longLineRepro(4096));
    await fine.send(`${'é'.repeat(2048)}\r\n`); // 4096 bytes, plus \r\n
    const [reply] = await fine.next(1, { hint: 'a line of exactly 4096 bytes is allowed' });
    expect(reply, 'a line of exactly 4096 bytes (plus its \\r\\n) is not too long').not.toBe(
      'ERR line too long',
    );

    const long = await chatter(port, 'long', longLineRepro(4097));
    await long.send(`${'x'.repeat(4097)}\n`);
    await long.expect('ERR line too long', 'count the bytes of a line; past 4096, answer ERR line too long');
    await long.closed({ hint: 'after ERR line too long, close the connection: socket.end()' });
  });
});

describe('step 2: join with a nickname', () => {
  test('a valid nickname, in any script, gets `OK <nick>`', async () => {
    const { port } = await startChat();
    // தமிழ் has vowel signs (marks, \\p{M}); Japanese mixes Han and kana, Korean Hangul: one script each.
    for (const nick of ['alice', 'Zoë_2', '名前', 'Ω-7', 'a'.repeat(32), 'தமிழ்', 'ひらがな漢字', '한국어']) {
      await joined(port, nick);
    }
  });

  test('an invalid nickname gets `ERR invalid nickname ...`, and the server waits for another', async () => {
    const { port } = await startChat();
    const c = await chatter(port, 'newcomer');
    for (const bad of ['a b', 'bob!', 'x'.repeat(33), '😀', ' alice']) {
      await c.send(`${bad}\n`);
      const [reply = ''] = await c.next(1);
      expect(reply, `the nickname ${JSON.stringify(bad)} is not 1 to 32 letters, digits, _ or -`).toMatch(
        INVALID,
      );
    }
    await c.send('\nbob\n'); // an empty line is ignored, even here
    await c.expect('OK bob', 'after ERR, the next line is another nickname attempt');
  });

  test('look-alike nicknames: NFKC-normalised before the check, letters of one script, nothing invisible', async () => {
    const { port } = await startChat();
    const c = await chatter(port, 'mallory');
    const hint =
      'nicknameOf(line) normalises (NFKC) and checks the shape and the script: use its answer, not the raw line';
    for (const [bad, why] of [
      ['\u0430lice', 'a Cyrillic а (U+0430) among Latin letters: two scripts'],
      ['\u3164', 'U+3164 HANGUL FILLER: a letter that shows as nothing'],
      ['ali\u200bce', 'a zero-width space inside'],
      [
        'sake\u9152',
        'Latin letters and a Han character (酒): two scripts, where Japanese mixes only Han and kana',
      ],
    ]) {
      await c.send(`${bad}\n`);
      const [reply = ''] = await c.next(1, { hint });
      expect(reply, `${JSON.stringify(bad)}: ${why}`).toMatch(INVALID);
    }
    await c.send('\uff41\uff4c\uff49\uff43\uff45\n'); // ａｌｉｃｅ, fullwidth
    await c.expect('OK alice', `${hint}: fullwidth ａｌｉｃｅ is alice once normalised`);
    for (const twin of ['alice', '\u{1d586}\u{1d591}\u{1d58e}\u{1d588}\u{1d58a}']) {
      const other = await chatter(port, twin);
      await other.send(`${twin}\n`);
      await other.expect(
        'ERR nickname taken',
        `${hint}: ${JSON.stringify(twin)} is alice once normalised, and alice is here`,
      );
    }
  });

  test('a nickname already in the room gets `ERR nickname taken`; another one then works', async () => {
    const { port } = await startChat();
    await joined(port, 'alice');
    const c = await chatter(port, 'second');
    await c.send('alice\n');
    await c.expect('ERR nickname taken', 'keep the joined nicknames (a Map) and check it');
    await c.send('alicia\n');
    await c.expect('OK alicia');
  });

  test('nicknames are compared byte for byte: `Alice` is not `alice`', async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const hint =
      'compare nicknames exactly once normalised, as this.members.has(nick) does: no toLowerCase(). ' +
      '`Alice` and `ALICE` are other people than `alice`';
    for (const nick of ['Alice', 'ALICE']) {
      const c = await chatter(port, nick);
      await c.send(`${nick}\n`);
      await c.expect(`OK ${nick}`, hint);
    }
    await alice.expect('* Alice joined', hint);
    await alice.expect('* ALICE joined', hint);
  });

  test('the others get `* <nick> joined`, in the order people join; the newcomer does not', async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    await alice.expect('* bob joined', 'tell every other joined member: `* bob joined`');
    await joined(port, 'carol');
    await alice.expect('* carol joined');
    await bob.expect('* carol joined', 'bob should not get `* bob joined`: only the others are told');
  });

  test('a multi-byte nickname sent one byte at a time joins whole (through the chunking proxy)', async () => {
    const { port } = await startChat();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand, the same cut: one byte every 10 ms
    const c = await chatter(proxy.port, '名前');
    await c.send('名前\r\n');
    await c.expect('OK 名前', 'one "data" event is not one line: keep the bytes until the \\n');
  });
});

describe('step 3: talk: messages, /who, /quit', () => {
  test('each message reaches every other member as `<nick>: <text>`, in the order sent', async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    const carol = await joined(port, 'carol');
    await alice.next(2); // * bob joined, * carol joined
    await bob.next(1); // * carol joined
    await alice.send('one\ntwo\nthree\n');
    for (const c of [bob, carol]) {
      expect(await c.next(3), `${c.name} should get alice's three lines, in order`).toEqual([
        'alice: one',
        'alice: two',
        'alice: three',
      ]);
    }
    await bob.send('héllo 你好\n');
    await alice.expect('bob: héllo 你好', 'alice never gets her own lines back: the next one is from bob');
    await carol.expect('bob: héllo 你好');
  });

  test('empty lines are ignored and a trailing \\r is dropped', async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    await alice.send('\n\r\nhi there\r\n\nlast\n');
    expect(await bob.next(2), 'no `alice: ` for the empty lines').toEqual(['alice: hi there', 'alice: last']);
  });

  test('/who answers the sender alone: `USERS` and every nickname, sorted by code point', async () => {
    const { port } = await startChat();
    const zoe = await joined(port, 'zoë');
    await joined(port, '﨎'); // U+FA0E, a Han character: one UTF-16 unit
    await joined(port, '𠀋'); // U+2000B, a Han character: two UTF-16 units, 0xD840 0xDC0B
    const bob = await joined(port, 'bob');
    await zoe.next(3);
    reproSetup({ note: 'zoë, 﨎 and 𠀋 were in the room too: join them first, each with its own nc' });
    await bob.send('/who\n');
    await expectUsers(bob, ['bob', 'zoë', '﨎', '𠀋']);
    await bob.send('done\n');
    await zoe.expect('bob: done', 'only the sender gets the USERS line');
  });

  test('/quit and byebye: `BYE`, then the server closes the connection and ignores the rest', async () => {
    const { port } = await startChat();
    const witness = await joined(port, 'witness');
    const marker = await joined(port, 'marker');
    await witness.expect('* marker joined');
    for (const [nick, goodbye] of [
      ['alice', '/quit'],
      ['bob', 'byebye'],
    ]) {
      const c = await joined(port, nick as string);
      await witness.expect(`* ${nick} joined`);
      await c.send(`${goodbye}\nignored\n`);
      await c.expect('BYE', `answer ${goodbye} with BYE`);
      await c.closed({ hint: 'after BYE, close the connection: closeSoon(member)' });
      await marker.send('tick\n'); // the next line the witness gets, unless the server went on
      const hint = `after BYE, the rest of what ${nick} sent is ignored: in receive(), stop as soon as member.socket.writable is false`;
      // `* NICK left` comes first once leave() is written (step 4); `NICK: ignored` never does.
      let [next] = await witness.next(1, { hint });
      if (next === `* ${nick} left`) [next] = await witness.next(1, { hint });
      expect(next, hint).toBe('marker: tick');
    }
  });

  test('a line with a control character or a bidi override is refused with `ERR`, never relayed', async () => {
    const { port } = await startChat();
    const mallory = await joined(port, 'mallory');
    const bob = await joined(port, 'bob');
    await mallory.expect('* bob joined');
    const hint =
      "relayed, ESC codes clear the others' screens and set their titles, a \\r forges the start of a line, " +
      'U+202E shows text backwards: refuse the line with unsafeLineError(line)';
    for (const [line, code] of [
      ['hi\x1b[2J\x1b]0;pwned\x07\rbob: send me your password', '001B'],
      ['ring\x07', '0007'],
      ['tab\there', '0009'],
      ['c1 \u009b31m', '009B'],
      ['evil\u202etxt.exe', '202E'],
      ['isolate \u2066x\u2069', '2066'],
    ]) {
      await mallory.send(`${line}\n`);
      await mallory.expect(`ERR control character U+${code} not allowed`, hint);
    }
    await mallory.send('sorry\n');
    await bob.expect('mallory: sorry', `${hint}; and the member stays in the room`);
  });

  test('a message cut one byte at a time arrives whole (through the chunking proxy)', async () => {
    const { port } = await startChat();
    const bob = await joined(port, 'bob');
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand, the same cut: one byte every 10 ms
    const alice = await chatter(proxy.port, 'alice');
    await alice.send('alice\nhéllo 你好 🎉\n');
    await alice.expect('OK alice');
    await bob.expect('* alice joined');
    await bob.expect('alice: héllo 你好 🎉', 'decode a line once it is complete, never a chunk on its own');
  });

  test('a dozen messages cut at random places arrive whole and in order', async () => {
    const { port } = await startChat();
    const bob = await joined(port, 'bob');
    const proxy = await startProxy(port, { cut: { maxPiece: 16 }, direction: 'request' });
    reproSetup({ trickleMs: 10 });
    const alice = await chatter(proxy.port, 'alice');
    const messages = Array.from({ length: 12 }, (_, i) => `message ${i}: ${'ça va? '.repeat(i % 4)}`.trim());
    await alice.send(`alice\n${messages.join('\r\n')}\r\n`);
    await bob.expect('* alice joined');
    expect(await bob.next(12), 'each message whole and in order, however the network cut them').toEqual(
      messages.map((m) => `alice: ${m}`),
    );
  });
});

describe('step 4: leave, however the client goes', () => {
  test('three people join, talk and leave: everyone sees it in order', async () => {
    const { port, log } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    const carol = await joined(port, 'carol');
    await alice.next(2);
    await bob.next(1);
    await carol.send('hi both\n');
    await bob.expect('carol: hi both');
    await bob.send('/quit\n');
    await bob.expect('BYE');
    expect(await alice.next(2), 'the message, then `* bob left` once bob quits').toEqual([
      'carol: hi both',
      '* bob left',
    ]);
    await carol.expect('* bob left', 'when a member quits, tell the others: `* bob left`');
    await log.line(/^bob left \(quit\)$/, 'the log line `NICK left (why)`: `bob left (quit)`');
    await carol.peer.end(); // carol's side sends FIN: she is gone too
    await alice.expect('* carol left', 'a FIN ("end") is a leave too');
    await log.line(/^carol left \(closed the connection\)$/, 'a FIN: `carol left (closed the connection)`');
    await alice.send('/who\n');
    await alice.expect('USERS alice', 'a member who left is no longer in the room');
  });

  test('/quit and byebye leave the room: the others get `* <nick> left`', async () => {
    const { port } = await startChat();
    const witness = await joined(port, 'witness');
    const marker = await joined(port, 'marker');
    await witness.expect('* marker joined');
    for (const [nick, goodbye] of [
      ['alice', '/quit'],
      ['bob', 'byebye'],
    ]) {
      const c = await joined(port, nick as string);
      await c.send(`${goodbye}\nignored\n`);
      await c.expect('BYE', `answer ${goodbye} with BYE`);
      await c.closed({ hint: 'after BYE, close the connection: socket.end()' });
      await witness.expect(`* ${nick} joined`);
      await witness.expect(`* ${nick} left`, `after ${goodbye}, the others get \`* ${nick} left\``);
      await marker.send('tick\n'); // the next line the witness gets, unless the server went on
      await witness.expect(
        'marker: tick',
        `after BYE, the rest of what ${nick} sent is ignored: in receive(), stop as soon as member.socket.writable is false`,
      );
    }
  });

  test('a client that resets is seen leaving, and the room carries on', async () => {
    const { port, log } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    await alice.expect('* bob joined');
    bob.peer.reset();
    await alice.expect('* bob left', 'a reset ("error", then "close") is a leave too');
    await log.line(
      /^client 127\.0\.0\.1:\d+ failed: connection reset by peer \(ECONNRESET\)$/,
      'a log line `client IP:PORT failed: <describeError(error)>`',
    );
    await log.line(
      /^bob left \(connection reset by peer \(ECONNRESET\)\)$/,
      'a log line `bob left (connection reset by peer (ECONNRESET))`: why = describeError(error)',
    );
    expect(log.lines[0], 'the first log line of a connection').toMatch(
      /^client connected from 127\.0\.0\.1:\d+$/,
    );
    const carol = await joined(port, 'carol');
    await alice.expect('* carol joined');
    await carol.send('still here?\n');
    await alice.expect('carol: still here?');
  });

  test('a client whose line is too long leaves the room; its nickname is free again', async () => {
    const { port, log } = await startChat();
    const alice = await joined(port, 'alice');
    const bob = await joined(port, 'bob');
    await alice.expect('* bob joined');
    bob.repro = longLineRepro(5000, 'bob');
    await bob.send(`${'x'.repeat(5000)}\n`);
    await bob.expect('ERR line too long');
    await alice.expect('* bob left');
    await log.line(
      /^bob left \(sent a line over 4096 bytes\)$/,
      'the log line `bob left (sent a line over 4096 bytes)`',
    );
    await joined(port, 'bob');
    await alice.expect('* bob joined');
  });

  test('a client that goes before joining tells no one, and nothing breaks', async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const early = await connect(port);
    await early.write('bo');
    early.reset();
    await (await connect(port)).end();
    await joined(port, 'bob');
    await alice.expect('* bob joined', 'only joined members are announced, arriving or leaving');
  });

  test('past maxClients, a connection gets `ERR server full` and is closed; once one goes, a newcomer can join', async () => {
    const { port, log } = await startChat({ maxClients: 2 });
    const alice = await joined(port, 'alice');
    const lurker = await chatter(port, 'lurker'); // connected, no nickname yet: it counts too
    const third = await chatter(port, 'third');
    await third.expect(
      'ERR server full',
      'add every accepted socket to this.connections, joined or not; when this.isFull(), this.turnAway(socket)',
    );
    await third.closed({ hint: 'turn the connection away at once: ERR server full, then socket.end()' });
    await log.line(
      /^client 127\.0\.0\.1:\d+ refused: server full \(2 connections\)$/,
      'a log line `client IP:PORT refused: server full (2 connections)`',
    );

    const lurkerPort = lurker.socket.localPort;
    lurker.peer.reset(); // it goes without a word: its place must be free again
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${lurkerPort} closed$`),
      "the server's log line for the lurker's 'close'",
    );
    const bob = await joined(port, 'bob');
    await alice.expect(
      '* bob joined',
      "delete the socket from this.connections on 'close', which comes however the connection ends",
    );
    const fourth = await chatter(port, 'fourth');
    await fourth.expect(
      'ERR server full',
      'alice and bob fill the room again: a newcomer that joins counts like any other connection',
    );
    await bob.send('/who\n');
    await bob.expect('USERS alice,bob');
  });
});

/**
 * A raw client that keeps its side open after the server's FIN (allowHalfOpen), as a hostile or
 * broken client may, and sends `first`, whose first line must be answered `answer`. `closed`
 * resolves on the 'close' of the SERVER's socket for it: once the server has sent its FIN, only the
 * server's side shows that it let go.
 */
async function halfOpenClient(server: net.Server, port: number, first: string, answer: string) {
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  closeAfterTest(() => socket.destroy());
  socket.on('error', () => {});
  socket.resume();
  const onServer = await within(accepted, () => ({
    expected: `the server to accept a connection on ${port}`,
  }));
  const closed = new Promise<void>((resolve) => onServer.once('close', () => resolve()));
  // A server still at a TODO, or one that answers the first line otherwise than `answer`, would
  // never cut this client off: fail with what it said at once, not after the grace period.
  let text = '';
  const todo = new Promise<never>((_, reject) =>
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const line = /TODO\(\d+\)[^\n]*/.exec(text)?.[0];
      if (line) reject(new Error(line));
      const said = text.split('\n')[0] ?? '';
      if (text.includes('\n') && said !== answer)
        reject(
          new WireError(`${JSON.stringify(first.split('\n')[0])} was answered ${JSON.stringify(said)}`, {
            expected: answer,
          }),
        );
    }),
  );
  todo.catch(() => {});
  socket.write(first);
  // Awaited only after the other client's wait: handled here, so that a failure meanwhile is no
  // unhandled rejection.
  const ends = Promise.race([closed, todo]);
  ends.catch(() => {});
  return { socket, closed: ends };
}

describe('step 4: a client that never closes its side is cut off after CLOSE_GRACE_MS', () => {
  test('after BYE, and after `ERR server full`, a client that keeps its side open is destroyed', async () => {
    const { port, server } = await startChat({ maxClients: 1 });
    const quitter = await halfOpenClient(server, port, 'quitter\n/quit\n', 'OK quitter');
    const turnedAway = await halfOpenClient(server, port, 'late\n', 'ERR server full');
    // A liveness bound: CLOSE_GRACE_MS, plus a wide margin for a busy machine.
    const bound = CLOSE_GRACE_MS + 5_000;
    for (const [who, client] of [
      ['the client that sent /quit', quitter],
      ['the client turned away', turnedAway],
    ] as const) {
      await within(
        client.closed,
        () => ({
          expected: `${who}, which never closes its side, to be cut off within ${CLOSE_GRACE_MS} ms`,
          hint: 'socket.end() waits for the client to close its side: after the grace period, socket.destroy()',
        }),
        { ms: bound },
      );
    }
  });

  test('isFull(): a socket destroyed a moment ago no longer takes a place', () => {
    const room = new ChatRoom({ maxClients: 1 });
    const gone = new net.Socket();
    gone.destroy(); // its 'close' has not come yet: still in connections
    room.connections.add(gone);
    expect(room.isFull(), 'the only connection is destroyed: there is room').toBe(false);
    expect(room.connections.has(gone), 'isFull() forgets the destroyed socket').toBe(false);
    room.connections.add(new net.Socket());
    expect(room.isFull(), 'one open connection with maxClients 1: full').toBe(true);
  });
});

describe('step 4: one address cannot take every place', () => {
  test('past maxPerAddress connections from one address, the next gets `ERR too many connections from your address`', async () => {
    const { port, log } = await startChat({ maxClients: 10, maxPerAddress: 2 });
    const alice = await joined(port, 'alice');
    const lurker = await chatter(port, 'lurker'); // no nickname yet: it counts too
    const third = await chatter(port, 'third');
    const hint =
      'count the open connections of each address (socket.remoteAddress): at maxPerAddress, this.turnAway(socket, ...)';
    await third.expect('ERR too many connections from your address', hint);
    await third.closed({ hint: 'turn the connection away at once, then socket.end()' });
    await log.line(
      /^client 127\.0\.0\.1:\d+ refused: too many connections from your address \(2 from it\)$/,
      'a log line `client IP:PORT refused: too many connections from your address (2 from it)`',
    );
    // Another address has its own share: 127.0.0.2 is on the loopback interface too.
    const bob = await chatterFrom(port, '127.0.0.2', 'bob');
    await bob.send('bob\n');
    await bob.expect('OK bob', 'another address is not limited by the connections of 127.0.0.1');
    await alice.expect('* bob joined');
    const lurkerPort = lurker.socket.localPort;
    lurker.peer.reset(); // a place of 127.0.0.1 is free again once it has closed
    await log.line(new RegExp(`^client 127\\.0\\.0\\.1:${lurkerPort} closed$`), "the lurker's 'close'");
    const carol = await chatter(port, 'carol');
    await carol.send('carol\n');
    await carol.expect(
      'OK carol',
      "forget a connection's address on 'close' (untrack): its place is free again",
    );
    // Alice and carol are open: 127.0.0.1 has its 2 again, however many of its connections came and went.
    const fifth = await chatter(port, 'fifth');
    await fifth.expect(
      'ERR too many connections from your address',
      "on 'close', delete only that socket from its address's set (untrack); the address's entry goes only when its set is empty",
    );
  });

  test('maxPerAddress 1: the first connection from an address joins, the second is turned away', async () => {
    const { port } = await startChat({ maxPerAddress: 1 });
    const first = await chatterFrom(port, '127.0.0.4', 'first');
    await first.send('first\n');
    await first.expect('OK first', 'an address with no connection yet has 0 open: it gets its first place');
    const second = await chatterFrom(port, '127.0.0.4', 'second');
    await second.expect('ERR too many connections from your address');
  });

  test('openFrom(): a socket destroyed a moment ago no longer counts against its address', () => {
    const room = new ChatRoom({ maxPerAddress: 1 });
    // Sockets that never connected have no remoteAddress: track() files them all under ''.
    const gone = new net.Socket();
    gone.destroy(); // its 'close' has not come yet: still tracked
    room.track(gone);
    const newcomer = new net.Socket();
    expect(room.openFrom(newcomer), "the address's only connection is destroyed: 0 open").toBe(0);
    const open = new net.Socket();
    room.track(open);
    expect(room.openFrom(newcomer), 'track() counts a connection under its address: 1 open').toBe(1);
    room.untrack(open);
    room.untrack(gone);
    expect(room.byAddress.size, "untrack() of an address's last connection forgets the address").toBe(0);
  });

  test('the default: 16 silent connections from one address do not lock out the others', async () => {
    const { port, log } = await startChat({ maxClients: 20 });
    // What this builds on first: a client joins (step 2), from an address of its own.
    const first = await chatterFrom(port, '127.0.0.4', 'first');
    await first.send('first\n');
    await first.expect('OK first', 'step 2 first: a nickname joins the room');
    const silent = await Promise.all(Array.from({ length: 16 }, (_, i) => chatter(port, `silent${i}`)));
    const seventeenth = await chatter(port, 'seventeenth');
    await seventeenth.expect('ERR too many connections from your address', 'the default maxPerAddress is 16');
    await log.line(/refused: too many connections from your address \(16 from it\)$/, 'the refusal, logged');
    for (const [i, address] of ['127.0.0.2', '127.0.0.3'].entries()) {
      const other = await chatterFrom(port, address, `other${i}`);
      await other.send(`other${i}\n`);
      await other.expect(`OK other${i}`, 'the room is not full: other addresses still join');
    }
    expect(
      silent.every((c) => !c.socket.destroyed),
      'the 16 silent ones are still connected',
    ).toBe(true);
  });
});

describe('other clients: nc', () => {
  test("the course's nc is a usable client: plain text lines", async () => {
    const { port } = await startChat();
    const alice = await joined(port, 'alice');
    const stdout = await runCourseLine(ncLine('dave\nhello from nc\n/quit\n', port));
    expect(stdout.toString('utf8'), 'what nc shows: OK for the nickname, then BYE for /quit').toBe(
      'OK dave\nBYE\n',
    );
    expect(await alice.next(3), 'what the room sees of the nc client').toEqual([
      '* dave joined',
      'dave: hello from nc',
      '* dave left',
    ]);
  });
});
