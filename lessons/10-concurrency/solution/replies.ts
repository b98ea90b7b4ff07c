/**
 * Lesson 10: the replies of one connection, in the order of its requests. A request may be
 * answered at once (`ping`) or later (`hash` on a thread, `sleep`): each takes its place in the
 * line when it arrives, and a reply leaves only when every reply before it has left. So a client
 * that sends `sleep 300` then `ping` without waiting (pipelining) reads `slept 300`, then `pong`.
 */
export type Reply = string | Promise<string>;

export class Replies {
  /** Replies not sent yet, oldest first; undefined while its answer is being worked out. */
  private line: (string | undefined)[] = [];
  private first = 0;
  private readonly send: (text: string) => void;

  /** `send` gets the text of one or more replies, each ending in `\n`, ready to write. */
  constructor(send: (text: string) => void) {
    this.send = send;
  }

  /** Requests not answered yet (or answered, waiting for an older one). */
  get pending(): number {
    return this.line.length - this.first;
  }

  /** The reply to the next request. A promise that rejects is answered `ERR <its message>`. */
  add(reply: Reply): void {
    // region step-3
    const place = this.line.length;
    this.line.push(typeof reply === 'string' ? reply : undefined);
    if (typeof reply === 'string') this.flush();
    else
      reply.then(
        (text) => this.fill(place, text),
        (error: Error) => this.fill(place, `ERR ${error.message}`),
      );
    // endregion step-3
  }

  /** Puts the reply for `place` in the line, then sends what is ready at its front. */
  protected fill(place: number, text: string): void {
    // The line only shrinks when it is empty (see flush), so a place stays valid until sent.
    this.line[place] = text;
    this.flush();
  }

  /** Sends every reply ready at the front of the line, in one write. */
  private flush(): void {
    const ready: string[] = [];
    while (this.first < this.line.length && this.line[this.first] !== undefined) {
      ready.push(`${this.line[this.first]}\n`);
      this.first += 1;
    }
    if (this.first === this.line.length) {
      this.line = [];
      this.first = 0;
    }
    if (ready.length > 0) this.send(ready.join(''));
  }
}
