import dgram from 'node:dgram';
import { describe, expect, test } from 'vitest';
import {
  createUdpProxy,
  recordDatagrams,
  runCourseLine,
  startCourseLine,
  startUdpProxy,
  startUdpServer,
  udpNcLine,
  udpPeer,
  WireError,
} from '../src/index.ts';

/** A UDP server that answers each datagram to its sender in upper case. */
const upperServer = () => startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());

describe('the lossy UDP proxy', () => {
  test('passes datagrams both ways and sends each reply back to the client it belongs to', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port);
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => udpPeer()));
    await Promise.all(clients.map((client, i) => client.send(`client ${i}`, proxy.port)));
    for (const [i, client] of clients.entries()) {
      expect((await client.datagram()).toString()).toBe(`CLIENT ${i}`);
    }
    expect(proxy.clients()).toHaveLength(5);
    // The server sees one sender per client: the proxy's upstream socket for that client.
    const senders = new Set(server.received.map((d) => d.port));
    expect(senders.size).toBe(5);
    expect(proxy.events.every((e) => e.kind === 'data' && e.fate === 'deliver')).toBe(true);
  });
  test('a rule drops the first 2 datagrams client → server, and says so', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'drop', direction: 'request', first: 2 }],
    });
    const client = await udpPeer();
    for (const word of ['one', 'two', 'three']) await client.send(word, proxy.port);
    expect((await client.datagram()).toString()).toBe('THREE');
    await proxy.arrived('request', 3);
    expect(server.received.map((d) => d.bytes.toString())).toEqual(['three']);
    expect(proxy.events.map((e) => [e.from, e.fate, e.n])).toEqual([
      ['client', 'drop', 1],
      ['client', 'drop', 2],
      ['client', 'deliver', 3],
      ['server', 'deliver', 1],
    ]);
    expect(proxy.summary()).toBe(
      'request 1 (3 bytes) dropped; request 2 (3 bytes) dropped; request 3 (5 bytes) delivered; ' +
        'reply 1 (5 bytes) delivered',
    );
  });
  test('duplicates a reply, and reorders requests so the next one overtakes', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [
        { action: 'duplicate', direction: 'reply', nth: [1] },
        { action: 'reorder', direction: 'request', nth: [2] },
      ],
    });
    const client = await udpPeer();
    await client.send('a', proxy.port);
    const replies = await client.datagrams(2);
    expect(replies.map((d) => d.bytes.toString())).toEqual(['A', 'A']);
    await client.send('b', proxy.port);
    await client.send('c', proxy.port);
    await server.datagrams(3);
    expect(server.received.map((d) => d.bytes.toString())).toEqual(['a', 'c', 'b']);
    expect(proxy.events.filter((e) => e.fate === 'reorder').map((e) => e.n)).toEqual([2]);
  });
  test('a reordered datagram with nothing after it is sent anyway after holdMs', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'reorder', direction: 'request' }],
      holdMs: 20,
    });
    const client = await udpPeer();
    await client.send('alone', proxy.port);
    expect((await client.datagram()).toString()).toBe('ALONE');
  });
  test('random fates come from the seed: the same seed, the same fates', async () => {
    const server = await startUdpServer();
    const fates = async (seed: number) => {
      const proxy = await startUdpProxy(server.port, {
        random: { seed, drop: 0.3, duplicate: 0.2, direction: 'request' },
      });
      expect(proxy.seed).toBe(seed);
      const client = await udpPeer();
      for (let i = 0; i < 20; i++) await client.send(`${i}`, proxy.port);
      await proxy.arrived('request', 20);
      return proxy.events.map((e) => `${e.n}:${e.fate}`);
    };
    const first = await fates(42);
    expect(await fates(42)).toEqual(first);
    expect(first.some((f) => f.endsWith('drop'))).toBe(true);
    expect(first.some((f) => f.endsWith('duplicate'))).toBe(true);
  });
  test('close() closes its sockets: nothing answers on its port afterwards', async () => {
    const server = await upperServer();
    const proxy = await createUdpProxy(server.port, { rules: [{ action: 'reorder' }], holdMs: 10_000 });
    const client = await udpPeer();
    await client.send('held', proxy.port);
    await proxy.arrived('request', 1);
    await proxy.close();
    await proxy.close(); // twice is fine
    expect(server.received).toHaveLength(0);
  });
});

describe('UDP peers and servers', () => {
  test('a wait that ends lists the datagrams received, with their senders, and a course nc line', async () => {
    const server = await startUdpServer(() => 'only one');
    const client = await udpPeer();
    await client.send('hello', server.port);
    const error = await client.datagrams(2, { ms: 100, hint: 'reply twice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireError);
    const message = (error as Error).message;
    expect(message).toContain('expected: 2 datagram(s)');
    expect(message).toContain(
      `1. from 127.0.0.1:${server.port}: "only one"  6f 6e 6c 79 20 6f 6e 65  (8 bytes)`,
    );
    expect(message).toContain('hint: reply twice');
    expect(message).toContain(`npx course nc -u -w 5 --send 'hello' 127.0.0.1 ${server.port}`);
  });
  test('empty datagrams are sent and received as 0 bytes', async () => {
    const server = await startUdpServer(() => '');
    const client = await udpPeer();
    await client.send('', server.port);
    expect((await client.datagram()).length).toBe(0);
    expect(server.received[0]?.bytes.length).toBe(0);
  });
  test('send() rejects with EMSGSIZE past 65507 bytes', async () => {
    const client = await udpPeer();
    const error = await client.send(Buffer.alloc(65_508), 9).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('EMSGSIZE');
  });
  test('udpNcLine sends one datagram and prints the reply, even an empty one', async () => {
    expect(udpNcLine('hi there', 9000)).toBe("npx course nc -u -w 5 --send 'hi there' 127.0.0.1 9000");
    const sizes: number[] = [];
    const server = await startUdpServer((bytes) => {
      sizes.push(bytes.length);
      return bytes.toString().toUpperCase() || 'got it';
    });
    const fast = (line: string) => line.replace('-w 5', '-w 0.5');
    expect((await runCourseLine(fast(udpNcLine('from nc', server.port)))).toString()).toBe('FROM NC');
    const empty = udpNcLine('', server.port);
    expect(empty).toContain('--send-empty');
    expect((await runCourseLine(fast(empty))).toString()).toBe('got it');
    expect(sizes).toEqual([7, 0]);
  });

  test('startCourseLine reads a line while it runs: course nc -u -w 8 prints its reply long before its wait ends', async () => {
    const server = await startUdpServer((bytes) => bytes.toString().toUpperCase());
    const started = performance.now();
    const nc = startCourseLine(udpNcLine('from nc', server.port).replace('-w 5', '-w 8'));
    expect(await nc.waitForOutput(/./s, 'the reply', { ms: 8_000 })).toBe('FROM NC');
    expect(nc.exited, 'nc still waits for more replies, as netcat does').toBe(false);
    expect(performance.now() - started).toBeLessThan(8_000);
  });
});

describe('recordDatagrams, for diagrams', () => {
  test('records a dropped request, the resend and the reply as data events', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (bytes, from) =>
      server.send(bytes.toString().toUpperCase(), from.port, from.address, () => {}),
    );
    const events = await recordDatagrams({
      server,
      proxy: { rules: [{ action: 'drop', direction: 'request', first: 1 }] },
      client: async (port) => {
        const client = dgram.createSocket('udp4');
        const reply = new Promise((resolve) => client.once('message', resolve));
        client.send('hi', port, '127.0.0.1', () => {});
        client.send('hi', port, '127.0.0.1', () => {});
        await reply;
        client.close();
      },
    });
    expect(events.map((e) => [e.kind, e.from, e.fate, Buffer.from(e.bytes).toString()])).toEqual([
      ['data', 'client', 'drop', 'hi'],
      ['data', 'client', 'deliver', 'hi'],
      ['data', 'server', 'deliver', 'HI'],
    ]);
    expect(() => server.address()).toThrow(); // closed afterwards
  });
});
