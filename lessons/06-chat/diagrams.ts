/**
 * The wire diagrams of lesson 06, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`. The recorder proxies one connection, Bob's; Alice
 * and Carol connect to the server directly, so the diagram shows the room as Bob's socket sees it.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { createChatServer } from './solution/server.ts';

/** One person in the room: sends lines, and waits for the lines it expects to receive. */
class Person {
  readonly socket: net.Socket;
  private received = '';
  private closed = false;
  private readonly waiting = new Set<() => void>();

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.setNoDelay(true);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (text: string) => {
      this.received += text;
      this.wake();
    });
    this.socket.on('error', () => {}); // the recording ends by destroying the server's sockets
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  say(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** Resolves once `line` has arrived, whole; rejects if the connection closes first. */
  async heard(line: string): Promise<void> {
    while (!this.received.split('\n').slice(0, -1).includes(line)) {
      if (this.closed) throw new Error(`the connection closed before ${JSON.stringify(line)} arrived`);
      await new Promise<void>((resolve) => this.waiting.add(resolve));
    }
  }

  /** Resolves once the server has closed the connection. */
  async gone(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiting.add(resolve));
  }

  private wake(): void {
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }
}

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'three-people': {
    title: "Bob's connection (client) to the chat server while Alice and Carol talk in the same room",
    'zh-CN': { title: 'Bob 的连接（客户端）连到聊天服务端，同时 Alice 和 Carol 在同一个房间里聊天' },
    record: () => {
      const server = createChatServer();
      return recordExchange({
        server,
        client: async (proxyPort) => {
          const { port } = server.address() as net.AddressInfo;
          // Each step waits for what it causes, so that every line crosses Bob's wire on its own.
          const bob = new Person(proxyPort);
          bob.say('bob');
          await bob.heard('OK bob');
          const alice = new Person(port);
          alice.say('alice');
          await bob.heard('* alice joined');
          const carol = new Person(port);
          carol.say('carol');
          await bob.heard('* carol joined');
          alice.say('hi Bob, hi Carol');
          await bob.heard('alice: hi Bob, hi Carol');
          carol.say('héllo 你好');
          await bob.heard('carol: héllo 你好');
          bob.say('/who');
          await bob.heard('USERS alice,bob,carol');
          bob.say('see you');
          await Promise.all([alice.heard('bob: see you'), carol.heard('bob: see you')]);
          alice.say('byebye');
          await bob.heard('* alice left');
          bob.say('/quit');
          await bob.heard('BYE');
          await bob.gone();
          carol.socket.end();
        },
      });
    },
  },
};
