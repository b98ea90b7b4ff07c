/** The lines a server logs (one per client event), collected for a test to wait on. */
import { Changes, type WaitOptions, waitUntil } from './wait.ts';

export class LogLines {
  readonly lines: string[] = [];
  private readonly changes = new Changes();

  /** Give this to the server as its log function. */
  readonly add = (line: string): void => {
    this.lines.push(line);
    this.changes.notify();
  };

  /** Waits for a logged line matching `pattern` and returns it. */
  line(pattern: RegExp, expected: string, options: WaitOptions = {}): Promise<string> {
    return waitUntil<string>(
      this.changes,
      () => {
        const line = this.lines.find((l) => pattern.test(l));
        return line === undefined ? undefined : { value: line };
      },
      () => ({ expected, received: `log lines so far: ${JSON.stringify(this.lines)}` }),
      options,
    );
  }
}
