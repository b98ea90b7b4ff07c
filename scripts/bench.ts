/**
 * `npm run bench`: the course's benchmarks. Every figure is a ratio against a baseline measured
 * in the same run (this machine is shared and noisy): a peer npm package, Node's own module,
 * the naive approach, or a plain copy of the same bytes. A table on stdout; `--json` for machines.
 *
 *   npm run bench                  everything
 *   npm run bench -- framing lines feedback chat udp concurrency   some groups
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { within } from '@course/helpers';
import { mulberry32 } from '@course/helpers/wire';
import { listLessons, ROOT } from '@course/model/lessons';
import { PROGRESS_FILE } from '@course/model/progress';
import { encodeFrame, FrameDecoder } from '@course/struct-framing/framing';
import { build } from 'esbuild';
import * as lp from 'it-length-prefixed';
import { createChatServer } from '../lessons/06-chat/solution/server.ts';
import { LineDecoder } from '../lessons/07-sticky-packets/solution/line-decoder.ts';
import { measureCores } from '../lessons/10-concurrency/measure-cores.ts';

const { values, positionals } = parseArgs({
  options: { json: { type: 'boolean' }, 'upload-mib': { type: 'string', default: '1024' } },
  allowPositionals: true,
});
const groups = new Set(
  positionals.length ? positionals : ['feedback', 'framing', 'lines', 'chat', 'udp', 'upload', 'concurrency'],
);

interface Row {
  group: string;
  what: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}
const rows: Row[] = [];
const say = (text: string) => values.json || console.log(text);

/** The middle value of a list of timings. */
function middle(list: number[]): number {
  return list.sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
}

/** `95 ms more`, or, where the runs' noise makes it less, `40 ms less (this machine's noise)`. */
function above(ms: number): string {
  return ms >= 0 ? `${Math.round(ms)} ms more` : `${Math.round(-ms)} ms less (this machine's noise)`;
}

/** `1.8–2.1 s`: the fastest and the slowest of a list of timings in ms. */
function spread(list: number[]): string {
  return `${(Math.min(...list) / 1000).toFixed(1)}–${(Math.max(...list) / 1000).toFixed(1)} s`;
}

/** The median of `runs` timings of `fn` (after one warm-up run), in milliseconds. */
async function median(fn: () => unknown, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return middle(times);
}

/**
 * The median timing of each function, run in turns (a, b, c, a, b, c...) after one warm-up each:
 * a busy spell on this shared machine then slows every contender alike instead of one of them.
 */
async function interleaved<K extends string>(
  fns: Record<K, () => unknown>,
  runs = 7,
): Promise<Record<K, number>> {
  const keys = Object.keys(fns) as K[];
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (const k of keys) await fns[k]();
  for (let i = 0; i < runs; i++) {
    // Each run in another order: what one leaves behind (memory freed, caches warmed) helps or
    // hinders the next, and that must not always be the same one.
    for (const k of [...keys.slice(i % keys.length), ...keys.slice(0, i % keys.length)]) {
      const started = performance.now();
      await fns[k]();
      times[k].push(performance.now() - started);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, middle(times[k])])) as Record<K, number>;
}

/** Cuts `bytes` into chunks of 1..max bytes, the same for the same seed. */
function cut(bytes: Buffer, max: number, seed = 1): Buffer[] {
  const random = mulberry32(seed);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = max === 0 ? 65_536 : 1 + Math.floor(random() * max);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

// ── Framing (lesson 08) ────────────────────────────────────────────────────────────────────────
async function framing(): Promise<void> {
  const cases = [
    { name: '200,000 frames of 100 B in 1–4096 B chunks', frames: 200_000, size: 100, max: 4096 },
    { name: 'ten 10 MiB frames in 64 KiB chunks', frames: 10, size: 10 * 1024 * 1024, max: 0 },
  ];
  for (const c of cases) {
    const payload = Buffer.alloc(c.size, 7);
    const stream = Buffer.concat(Array.from({ length: c.frames }, () => encodeFrame(payload)));
    const chunks = cut(stream, c.max);
    const naive = await median(
      () => {
        let held = Buffer.alloc(0);
        let n = 0;
        for (const chunk of chunks) {
          held = Buffer.concat([held, chunk]); // one concat per chunk: the quadratic way
          while (held.length >= 4 && held.length >= 4 + held.readUInt32BE(0)) {
            const length = held.readUInt32BE(0);
            held.subarray(4, 4 + length);
            held = held.subarray(4 + length);
            n++;
          }
        }
        if (n !== c.frames) throw new Error('naive decoder lost frames');
      },
      c.max === 0 ? 1 : 3,
    );
    const fixed = Object.assign((data: { getUint32(i: number): number }) => data.getUint32(0), { bytes: 4 });
    const { ours, copy, floor, joined, itlp } = await interleaved(
      {
        ours: () => {
          const decoder = new FrameDecoder({ maxFrameBytes: c.size });
          let n = 0;
          for (const chunk of chunks) n += decoder.push(chunk).length;
          if (n !== c.frames) throw new Error(`decoded ${n} frames, not ${c.frames}`);
        },
        copy: () => {
          const all = Buffer.allocUnsafe(stream.length);
          let at = 0;
          for (const chunk of chunks) at += chunk.copy(all, at);
        },
        // The floor for any decoder that returns one Buffer per frame: a view per frame on one
        // contiguous buffer, with nothing to join, hold or return. Creating a Buffer costs more
        // than copying 100 bytes, so for small frames this, not the copy, is the floor.
        floor: () => {
          let n = 0;
          for (let at = 0; at < stream.length; n++) {
            const length = stream.readUInt32BE(at);
            if (stream.subarray(at + 4, at + 4 + length).length !== length) break;
            at += 4 + length;
          }
          if (n !== c.frames) throw new Error('the floor lost frames');
        },
        // The same, but from the chunks as they were cut: a frame cut across two chunks must be
        // joined into a Buffer of its own (one allocation, one copy). No decoder can do less.
        joined: () => {
          let n = 0;
          let index = 0;
          let chunkStart = 0;
          for (let at = 0; at < stream.length; n++) {
            const start = at + 4;
            const end = start + stream.readUInt32BE(at);
            while (chunkStart + (chunks[index] as Buffer).length <= start && index < chunks.length - 1)
              chunkStart += (chunks[index++] as Buffer).length;
            const chunk = chunks[index] as Buffer;
            const frame =
              end <= chunkStart + chunk.length
                ? chunk.subarray(start - chunkStart, end - chunkStart)
                : Buffer.from(stream.subarray(start, end));
            if (frame.length !== end - start) break;
            at = end;
          }
          if (n !== c.frames) throw new Error('the floor with joins lost frames');
        },
        itlp: async () => {
          let n = 0;
          // Each frame as one Buffer, as FrameDecoder gives it (it-length-prefixed yields lazy lists).
          for await (const frame of lp.decode(chunks, {
            lengthDecoder: fixed as never,
            maxDataLength: c.size,
          })) {
            if (frame.subarray().length === c.size) n++;
          }
          if (n !== c.frames) throw new Error(`it-length-prefixed decoded ${n} frames`);
        },
      },
      // Runs of 10 to 40 ms on a shared machine: the middle of 21 holds still where that of 7
      // swung by a third from one bench to the next.
      21,
    );
    rows.push(
      { group: 'framing', what: `${c.name}: FrameDecoder`, value: ours, unit: 'ms' },
      {
        group: 'framing',
        what: `${c.name}: vs it-length-prefixed`,
        value: itlp,
        unit: 'ms',
        baseline: 'faster than it-length-prefixed',
        ratio: itlp / ours,
        target: c.max === 0 ? '≥ 1× (no slower)' : '≥ 4× faster',
        met: c.max === 0 ? itlp / ours >= 1 : itlp / ours >= 4,
      },
      {
        group: 'framing',
        what: `${c.name}: vs one Buffer.concat per chunk`,
        value: naive,
        unit: 'ms',
        baseline: 'faster than the naive decoder',
        ratio: naive / ours,
      },
      {
        group: 'framing',
        what: `${c.name}: vs a plain copy of the bytes`,
        value: copy,
        unit: 'ms',
        baseline: 'the time of a plain copy',
        ratio: ours / copy,
        // Big frames must be joined from their chunks: the copy is their floor.
        ...(c.max === 0 ? { target: '≤ 1.5× the copy', met: ours / copy <= 1.5 } : {}),
      },
      {
        group: 'framing',
        what: `${c.name}: vs a view per frame on one buffer`,
        value: floor,
        unit: 'ms',
        baseline: 'the time of the views alone',
        ratio: ours / floor,
        ...(c.max === 0 ? {} : { target: '≤ 1.5× the views', met: ours / floor <= 1.5 }),
      },
      // (Big frames are all joined: the copy above is their floor.)
      ...(c.max === 0
        ? []
        : [
            {
              group: 'framing',
              what: `${c.name}: vs a view per frame, and a join per frame cut across chunks`,
              value: joined,
              unit: 'ms',
              baseline: 'the time of the views and the joins alone',
              ratio: ours / joined,
            },
          ]),
    );
  }
}

// ── Lines (lesson 07) ──────────────────────────────────────────────────────────────────────────
async function lines(): Promise<void> {
  const text = Array.from(
    { length: 200_000 },
    (_, i) => `line ${i}: the quick brown fox jumps, 你好 🎉`,
  ).join('\n');
  const chunks = cut(Buffer.from(`${text}\n`), 4096);
  const ours = await median(() => {
    const decoder = new LineDecoder();
    let n = 0;
    for (const chunk of chunks) decoder.push(chunk, () => n++);
    if (n !== 200_000) throw new Error(`decoded ${n} lines`);
  });
  const readline = await median(async () => {
    let n = 0;
    for await (const _ of createInterface({
      input: Readable.from(chunks),
      crlfDelay: Number.POSITIVE_INFINITY,
    }))
      n++;
    if (n !== 200_000) throw new Error(`readline read ${n} lines`);
  });
  rows.push({
    group: 'lines',
    what: '200,000 lines in 1–4096 B chunks: LineDecoder vs node:readline',
    value: ours,
    unit: 'ms',
    baseline: 'faster than node:readline',
    ratio: readline / ours,
  });
}

// ── Feedback loop ──────────────────────────────────────────────────────────────────────────────
function wall(command: string[], env: NodeJS.ProcessEnv = {}): number {
  const started = performance.now();
  spawnSync(command[0] as string, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  return performance.now() - started;
}

/**
 * wall() and the CPU time of the command and every process it waited for (its test workers, the
 * programs they started), from GNU time: the team's bench, on Linux.
 */
function wallAndCpu(command: string[]): { ms: number; cpuMs: number } {
  const started = performance.now();
  // portable: the bench measures CPU time with GNU time, on Linux, for the team, not learners.
  const { stderr } = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', ...command], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const ms = performance.now() - started;
  const [, user = 'NaN', system = 'NaN'] = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr) ?? [];
  return { ms, cpuMs: (Number(user) + Number(system)) * 1000 };
}

/**
 * `course watch 01` against the starter: after its first run, the exercise file is saved again
 * (same content) and the re-run timed from the save to its result, `runs` times. Returns the
 * median re-run and the median of the tests' own share, as the watcher reports it.
 */
async function watchRerun(runs = 3): Promise<{ rerun: number; tests: number }> {
  const child = spawn(process.execPath, ['packages/cli/bin/course.mjs', 'watch', '01'], {
    cwd: ROOT,
    env: { ...process.env, COURSE_TARGET: '', FORCE_COLOR: '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let waiting: { pattern: RegExp; found: (match: RegExpExecArray) => void } | undefined;
  const check = () => {
    const match = waiting?.pattern.exec(output);
    if (match && waiting) {
      output = output.slice(match.index + match[0].length);
      waiting.found(match);
      waiting = undefined;
    }
  };
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
    check();
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`course watch: no ${pattern} in 30 s; it printed:\n${output.slice(-800)}`)),
        30_000,
      );
      waiting = {
        pattern,
        found: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      };
      check(); // it may be there already
    });
  const file = join(ROOT, 'lessons/01-tcp-client/exercise/client.ts');
  const source = readFileSync(file);
  const reruns: number[] = [];
  const tests: number[] = [];
  try {
    await waitFor(/watching lessons\/01-tcp-client/);
    for (let i = 0; i < runs; i++) {
      const rerun = waitFor(/the tests themselves (\d+) ms/);
      const saved = performance.now();
      writeFileSync(file, source);
      const match = await rerun;
      reruns.push(performance.now() - saved);
      tests.push(Number(match[1]));
      await waitFor(/watching lessons\/01-tcp-client/);
    }
  } finally {
    child.kill('SIGINT');
  }
  return { rerun: middle(reruns), tests: middle(tests) };
}

/**
 * Vitest's own floor under `course verify` and `course watch`, with nothing of the course: a
 * project of one empty test, run from a cold process (`cold`, wall time), and re-run in watch
 * mode on a save of its file, from the save to the end of the run (`rerun`: vitest's 100 ms
 * debounce, a fresh worker, the file collected again).
 */
function vitestFloor(node: string): { cold: number; rerun: number } {
  const dir = mkdtempSync(join(tmpdir(), 'course-bench-vitest-'));
  try {
    const test = join(dir, 'empty.test.js');
    writeFileSync(test, "test('empty', () => {});\n");
    const start = (watch: boolean) =>
      `const { startVitest } = await import(${JSON.stringify(import.meta.resolve('vitest/node'))});
       const { PassThrough } = await import('node:stream');
       const { writeFileSync } = await import('node:fs');
       let ran = () => {};
       const vitest = await startVitest('test', [], { root: ${JSON.stringify(dir)}, config: false, watch: ${watch},
         globals: true, reporters: [{ onTestRunEnd: () => ran() }] }, {}, { stdin: new PassThrough() });
       if (${watch}) {
         const times = [];
         for (let i = 0; i < 5; i++) {
           const done = new Promise((resolve) => { ran = resolve; });
           const saved = performance.now();
           writeFileSync(${JSON.stringify(test)}, "test('empty', () => {});\\n");
           await done;
           times.push(performance.now() - saved);
         }
         console.log(JSON.stringify(times));
       }
       await vitest.close();`;
    const cold = middle(
      Array.from({ length: 3 }, () => wall([node, '--input-type=module', '-e', start(false)])),
    );
    const watched = spawnSync(node, ['--input-type=module', '-e', start(true)], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    const reruns = JSON.parse(watched.stdout.trim().split('\n').at(-1) ?? '[]') as number[];
    return { cold, rerun: middle(reruns) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor under `npm test` and `course verify`: one vitest process for `lessons`, started as
 * those start it, with a test name pattern that matches no test. What is left is vitest starting,
 * a worker per test file, and each file loaded with the harness and the starter and its tests
 * collected (from a cold process, wall time: the median of three).
 */
function loadFloor(node: string, lessons: string[]): number {
  const script = `const { startVitest } = await import(${JSON.stringify(import.meta.resolve('vitest/node'))});
    const vitest = await startVitest('test', [], { root: ${JSON.stringify(ROOT)}, config: false, watch: false,
      projects: ${JSON.stringify(lessons)}, testNamePattern: /(?!)/, reporters: [{}] }, {}, {});
    await vitest.close();`;
  return middle(
    Array.from({ length: 3 }, () =>
      wall([node, '--input-type=module', '-e', script], { COURSE_TARGET: 'exercise' }),
    ),
  );
}

async function feedback(): Promise<void> {
  const node = process.execPath;
  // The learner's progress file is the runs' to write: put it back as it was afterwards.
  const progress = existsSync(PROGRESS_FILE) ? readFileSync(PROGRESS_FILE) : undefined;
  try {
    await feedbackRuns(node);
  } finally {
    if (progress) writeFileSync(PROGRESS_FILE, progress);
    else rmSync(PROGRESS_FILE, { force: true });
  }
}

async function feedbackRuns(node: string): Promise<void> {
  const bare = await median(() => wall([node, '-e', '0']), 3);
  const verify = await median(
    () => wall([node, 'packages/cli/bin/course.mjs', 'verify', '01'], { COURSE_TARGET: '' }),
    3,
  );
  // The baseline for the programs the tests start: each through tsx's loader, as before they were
  // bundled (packages/helpers' bundle.ts).
  const verifyTsx = await median(
    () =>
      wall([node, 'packages/cli/bin/course.mjs', 'verify', '01'], { COURSE_TARGET: '', COURSE_BUNDLE: '0' }),
    3,
  );
  // The typecheck verify runs beside the tests, as it runs it (incremental, its state warm): the
  // CPU it takes from them is most of what verify spends above its floor.
  const buildInfo = join(mkdtempSync(join(tmpdir(), 'bench-tsc-')), 'lesson.tsbuildinfo');
  const tscArgs = [
    join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    listLessons()[0]?.dir ?? '',
    '--incremental',
  ];
  wall([node, ...tscArgs, '--tsBuildInfoFile', buildInfo]);
  const typecheck = middle(
    Array.from({ length: 3 }, () => wallAndCpu([node, ...tscArgs, '--tsBuildInfoFile', buildInfo])).map(
      ({ cpuMs }) => cpuMs,
    ),
  );
  rmSync(dirname(buildInfo), { recursive: true, force: true });
  const site = await median(() => wall([node, '--import', 'tsx', 'site/src/build.ts']), 3);
  const testAll = ['scripts/run.mjs', 'scripts/test.ts'];
  const { ms: all, cpuMs: allCpu } = wallAndCpu([node, ...testAll]);
  const lessons = listLessons();
  const allLoaded = loadFloor(
    node,
    lessons.map((lesson) => lesson.dir),
  );
  const oneLoaded = loadFloor(node, [lessons[0]?.dir ?? '']);
  const allTsx = wall([node, ...testAll], { COURSE_BUNDLE: '0' });
  const watch = await watchRerun();
  const floor = vitestFloor(node);
  rows.push(
    {
      group: 'feedback',
      what: 'course verify 01, from a cold process',
      value: verify,
      unit: 'ms',
      target: '≤ 1500 ms and ≤ 15×',
      met: verify <= 1500 && verify / bare <= 15,
      baseline: 'the time of `node -e 0`',
      ratio: verify / bare,
    },
    {
      group: 'feedback',
      what: "course verify 01 against vitest's own floor: one empty test, from a cold process",
      value: floor.cold,
      unit: 'ms',
      baseline: 'the time of the floor',
      ratio: verify / floor.cold,
    },
    {
      group: 'feedback',
      what: "course verify 01 against its floor: vitest loading lesson 01's test files, every test filtered out",
      value: oneLoaded,
      unit: 'ms',
      baseline: `the time of the floor, itself ${(oneLoaded / bare).toFixed(1)}× \`node -e 0\``,
      ratio: verify / oneLoaded,
    },
    {
      group: 'feedback',
      what: `course verify 01's floor with its tests: the load above, and its longest test file's own run (${Math.round(watch.tests)} ms, as watch reports it)`,
      value: oneLoaded + watch.tests,
      unit: 'ms',
      baseline: `the time of \`node -e 0\`: no verify of these tests can be faster; verify is ${above(verify - oneLoaded - watch.tests)}`,
      ratio: (oneLoaded + watch.tests) / bare,
    },
    {
      group: 'feedback',
      what: "course verify 01's typecheck (tsc --incremental, alone): the CPU it takes beside the tests",
      value: typecheck,
      unit: 'ms',
      baseline: `of verify's time, on ${availableParallelism()} cores`,
      ratio: typecheck / verify,
    },
    {
      group: 'feedback',
      what: 'course verify 01: its programs bundled, against through tsx',
      value: verifyTsx,
      unit: 'ms',
      baseline: 'faster than with every program through tsx',
      ratio: verifyTsx / verify,
    },
    {
      group: 'feedback',
      what: 'site build (every lesson), from a cold process',
      value: site,
      unit: 'ms',
      target: '≤ 3000 ms',
      met: site <= 3000,
    },
    {
      group: 'feedback',
      what: 'course watch 01: a save to its result',
      value: watch.rerun,
      unit: 'ms',
      baseline: `of the tests’ own time, ${Math.round(watch.tests)} ms`,
      ratio: watch.rerun / watch.tests,
      target: '≤ 150 ms beyond the tests',
      met: watch.rerun - watch.tests <= 150,
    },
    {
      group: 'feedback',
      what: `course watch 01: ${Math.round(watch.rerun - watch.tests)} ms beyond the tests, against vitest's own re-run of one empty test`,
      value: floor.rerun,
      unit: 'ms',
      baseline: 'the floor: debounce, fresh worker, collection',
      ratio: (watch.rerun - watch.tests) / floor.rerun,
    },
    {
      group: 'feedback',
      what: 'npm test, the whole course against exercise/',
      value: all,
      unit: 'ms',
      target: '≤ 8000 ms',
      met: all <= 8000,
    },
    {
      group: 'feedback',
      what: "npm test against its floor: vitest loading the course's test files, every test filtered out",
      value: allLoaded,
      unit: 'ms',
      baseline: 'the time of the floor',
      ratio: all / allLoaded,
    },
    {
      group: 'feedback',
      what: `npm test against its CPU: ${(allCpu / 1000).toFixed(1)} s in all its processes, over the ${availableParallelism()} cores`,
      value: allCpu / availableParallelism(),
      unit: 'ms',
      baseline: 'the time of that floor: no run of these tests on these cores can be faster',
      ratio: all / (allCpu / availableParallelism()),
    },
    {
      group: 'feedback',
      what: 'npm test: its programs bundled, against through tsx',
      value: allTsx,
      unit: 'ms',
      baseline: 'faster than with every program through tsx',
      ratio: allTsx / all,
    },
  );
}

// ── Chat fan-out (lesson 06) ───────────────────────────────────────────────────────────────────
async function chat(): Promise<void> {
  for (const count of [200, 1000]) {
    // Every client comes from 127.0.0.1: the per-address limit (16 by default) must not apply.
    const server = createChatServer({
      maxQueueBytes: 1024 * 1024,
      maxClients: 2 * count,
      maxPerAddress: 2 * count,
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as AddressInfo;
    const sockets: net.Socket[] = [];
    const received = new Map<number, number>(); // message number → receivers so far
    const latencies: number[] = [];
    const sentAt = new Map<number, number>();
    let done: () => void = () => {};
    let next: () => void = () => {};
    const messages = 50;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const join = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(`u${i}\n`));
        sockets.push(socket);
        let buffered = '';
        socket.setEncoding('utf8').on('data', (text: string) => {
          buffered += text;
          let at = buffered.indexOf('\n');
          while (at >= 0) {
            const line = buffered.slice(0, at);
            buffered = buffered.slice(at + 1);
            if (line.startsWith('OK ')) resolve();
            if (line.startsWith('ERR ')) reject(new Error(`u${i} was refused: ${line}`));
            const match = /^u0: m(\d+)$/.exec(line);
            if (match) {
              const n = Number(match[1]);
              const seen = (received.get(n) ?? 0) + 1;
              received.set(n, seen);
              if (seen === count - 1) {
                latencies.push(performance.now() - (sentAt.get(n) ?? 0));
                next();
                if (latencies.length === messages) done();
              }
            }
            at = buffered.indexOf('\n');
          }
        });
        socket.on('error', reject);
      });
    for (let i = 0; i < count; i += 50)
      // Bounded: a benchmark that waits for ever measures nothing.
      await within(
        Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => join(i + j))),
        () => ({ expected: `clients u${i}… to be told OK`, received: `${sockets.length} connected` }),
        { ms: 10_000 },
      );
    // Joins announce themselves to everyone: let that traffic settle before measuring.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // One message at a time, each sent once the previous one reached everyone: the latency of one
    // fan-out, not of a queue of them.
    const started = performance.now();
    for (let n = 0; n < messages; n++) {
      const delivered = new Promise<void>((resolve) => {
        next = resolve;
      });
      sentAt.set(n, performance.now());
      sockets[0]?.write(`m${n}\n`);
      await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    const seconds = (performance.now() - started) / 1000;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    const sorted = latencies.sort((a, b) => a - b);
    const pick = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
    rows.push(
      {
        group: 'chat',
        what: `${count} clients: deliveries per second, one message at a time`,
        value: (latencies.length * (count - 1)) / seconds,
        unit: 'msg/s',
      },
      {
        group: 'chat',
        what: `${count} clients: p50 latency, send to last receiver`,
        value: pick(0.5),
        unit: 'ms',
      },
      {
        group: 'chat',
        what: `${count} clients: p99 latency, send to last receiver`,
        value: pick(0.99),
        unit: 'ms',
        target: count === 1000 ? '< 100 ms' : undefined,
        met: count === 1000 ? pick(0.99) < 100 : undefined,
      },
    );
  }
}

// ── UDP server (lesson 05) ─────────────────────────────────────────────────────────────────────
/**
 * Starts `node ...args` and resolves with the child, the port of its `listening on` line, and a
 * count of the log lines after it (the lesson's server logs one per datagram it receives).
 */
function listening(args: string[]): Promise<{ child: ChildProcess; port: number; logged: () => number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let seen = '';
    let lines = 0;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
      if (seen.length > 200) return;
      seen += text;
      const match = /listening on .*:(\d+)/.exec(seen);
      if (match) resolve({ child, port: Number(match[1]), logged: () => lines - 1 });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before listening`)));
  });
}

/**
 * Sends `total` datagrams as fast as send() completes (`paced`: with a pause to the event loop
 * every 64) and counts the answers. The rate is answers per second up to the last answer.
 */
async function burst(port: number, total: number, paced: boolean) {
  const client = dgram.createSocket('udp4');
  let answered = 0;
  let last = 0;
  client.on('message', () => {
    answered++;
    last = performance.now();
  });
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    await new Promise<void>((resolve) => client.send(`datagram ${i}`, port, '127.0.0.1', () => resolve()));
    if (paced && i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
  }
  // Answers still in flight arrive within moments on loopback.
  await new Promise((resolve) => setTimeout(resolve, 300));
  client.close();
  return { perSecond: answered / ((last - started) / 1000), lost: (100 * (total - answered)) / total };
}

/**
 * Keeps `window` datagrams in flight and sends the next one as each answer arrives: the server's
 * own throughput, with no loss to blur it (a window this small fits in every buffer on the way).
 * Answers per second over `total` answers.
 */
async function windowed(port: number, total: number, window = 32) {
  const client = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  let sent = 0;
  let answered = 0;
  const started = performance.now();
  const payload = Buffer.from('datagram in a window');
  const ms = await new Promise<number>((resolve, reject) => {
    // A lost datagram would stall the window for good: give up after 2 s without an answer.
    let stalled = setTimeout(() => {}, 0);
    const watch = () => {
      clearTimeout(stalled);
      stalled = setTimeout(() => reject(new Error(`udp: no answer for 2 s after ${answered}`)), 2_000);
    };
    client.on('message', () => {
      answered++;
      if (answered === total) {
        clearTimeout(stalled);
        resolve(performance.now() - started);
        return;
      }
      watch();
      if (sent < total) {
        sent++;
        client.send(payload, port, '127.0.0.1');
      }
    });
    watch();
    for (; sent < window; sent++) client.send(payload, port, '127.0.0.1');
  });
  client.close();
  return { perSecond: total / (ms / 1000) };
}

async function udp(): Promise<void> {
  // Both servers in processes of their own, as they would run: the lesson's program (which logs a
  // line per datagram) and a bare echo, the most a Node UDP server can answer here.
  const lesson = await listening(['--import', 'tsx', 'lessons/05-udp/solution/server.ts', '--port', '0']);
  const echo = await listening([
    '-e',
    "const s = require('node:dgram').createSocket('udp4');" +
      "s.on('message', (m, r) => s.send(m, r.port, r.address));" +
      "s.bind(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + s.address().port));",
  ]);
  try {
    const total = 20_000;
    // Three rounds, the two servers side by side in each; the round with the middle ratio.
    const rounds: { ours: number; bare: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const ours = (await windowed(lesson.port, total)).perSecond;
      rounds.push({ ours, bare: (await windowed(echo.port, total)).perSecond });
    }
    const mid = rounds.sort((a, b) => a.ours / a.bare - b.ours / b.bare)[1] as (typeof rounds)[number];
    rows.push({
      group: 'udp',
      what: `${total} datagrams, 32 in flight: answered per second`,
      value: mid.ours,
      unit: 'dgram/s',
      baseline: `of a bare echo server (${Math.round(mid.bare)}/s)`,
      ratio: mid.ours / mid.bare,
      target: '≥ 0.8×',
      met: mid.ours / mid.bare >= 0.8,
    });
    for (const paced of [true, false]) {
      const before = lesson.logged();
      const ours = await burst(lesson.port, total, paced);
      const reached = lesson.logged() - before;
      const bare = await burst(echo.port, total, paced);
      const name = `${paced ? 'paced' : 'unpaced'} burst of ${total}`;
      rows.push(
        {
          group: 'udp',
          what: `${name}: answered per second`,
          value: ours.perSecond,
          unit: 'dgram/s',
          baseline: `of a bare echo server (${Math.round(bare.perSecond)}/s)`,
          ratio: ours.perSecond / bare.perSecond,
        },
        {
          group: 'udp',
          what: `${name}: lost on the way to the server`,
          value: (100 * (total - reached)) / total,
          unit: '%',
        },
        {
          group: 'udp',
          what: `${name}: lost in all (a bare echo server: ${bare.lost.toFixed(1)}%)`,
          value: ours.lost,
          unit: '%',
        },
      );
    }
  } finally {
    lesson.child.kill();
    echo.child.kill();
  }
}

// ── Concurrency (lesson 10) ────────────────────────────────────────────────────────────────────
/** One line-protocol connection: send a line, await the next reply line. */
async function lineClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  const waiting: ((line: string) => void)[] = [];
  let held = '';
  socket.setEncoding('utf8').on('data', (text: string) => {
    held += text;
    for (let at = held.indexOf('\n'); at >= 0; at = held.indexOf('\n')) {
      waiting.shift()?.(held.slice(0, at));
      held = held.slice(at + 1);
    }
  });
  socket.on('error', () => {});
  return {
    ask: (line: string) =>
      new Promise<string>((resolve) => {
        waiting.push(resolve);
        socket.write(`${line}\n`);
      }),
    close: () => socket.destroy(),
  };
}

/**
 * `2 × cores` clients ask for hashes back to back for `ms`, while one more sends `ping` every
 * 20 ms: hashes per second, and the pings' round trips (the event loop's lag as a client sees it).
 */
async function underLoad(port: number, rounds: number, ms: number) {
  const workers = await Promise.all(
    Array.from({ length: 2 * availableParallelism() }, () => lineClient(port)),
  );
  const pinger = await lineClient(port);
  const until = performance.now() + ms;
  let hashes = 0;
  const pings: number[] = [];
  const load = workers.map(async (client) => {
    while (performance.now() < until) {
      const reply = await client.ask(`hash ${rounds} bench`);
      if (!/^[0-9a-f]{64}$/.test(reply)) throw new Error(`hash answered ${JSON.stringify(reply)}`);
      hashes++;
    }
  });
  const ping = (async () => {
    while (performance.now() < until) {
      const sent = performance.now();
      const reply = await pinger.ask('ping');
      if (reply !== 'pong') throw new Error(`ping answered ${JSON.stringify(reply)}`);
      pings.push(performance.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  await Promise.all([...load, ping]);
  const seconds = (performance.now() - started) / 1000;
  for (const client of [...workers, pinger]) client.close();
  return { perSecond: hashes / seconds, pings };
}

/** The same protocol in Python, one thread per connection: ping and hash only. */
const PYTHON_SERVER = String.raw`
import hashlib, socketserver
class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            words = line.decode().rstrip('\r\n').split(' ', 2)
            if words[0] == 'ping':
                self.wfile.write(b'pong\n')
            elif words[0] == 'hash':
                h = hashlib.sha256(words[2].encode()).digest()
                for _ in range(int(words[1]) - 1):
                    h = hashlib.sha256(h).digest()
                self.wfile.write(h.hex().encode() + b'\n')
socketserver.ThreadingTCPServer.daemon_threads = True
server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
print('listening on 127.0.0.1:%d' % server.server_address[1], flush=True)
server.serve_forever()
`;

async function concurrency(): Promise<void> {
  const cores = availableParallelism();
  const server = join(ROOT, 'lessons/10-concurrency/solution/server.ts');
  const modes: { name: string; args: string[] }[] = [
    { name: 'inline (hashes on the event loop)', args: ['--mode', 'inline'] },
    ...[...new Set([1, 2, cores])].map((n) => ({
      name: `workers, ${n} thread(s)`,
      args: ['--mode', 'workers', '--workers', String(n)],
    })),
    { name: `processes, ${cores}`, args: ['--mode', 'processes', '--processes', String(cores)] },
  ];
  // About 40 ms of hashing a request here: long enough to block, short enough to share.
  const rounds = 20_000;
  const ms = 2_000;
  // Every server is started first and loaded in turns, each turn in another order, and the floor
  // measured in each turn too: one run of each, one after another, swung the ratios on this
  // shared machine from 0.98× to 2.07× (and the floor from 1.0× to 1.6×) from one bench to the next.
  const turns = 3;
  const servers: { name: string; port: number; stop: () => void }[] = [];
  try {
    for (const mode of modes) {
      const running = await listening(['--import', 'tsx', server, '--port', '0', ...mode.args]);
      servers.push({ name: mode.name, port: running.port, stop: () => running.child.kill('SIGINT') });
    }
    if (spawnSync('python3', ['--version']).status === 0) {
      const python = await new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
        const child = spawn('python3', ['-c', PYTHON_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          const match = /listening on .*:(\d+)/.exec(text);
          if (match) resolve({ child, port: Number(match[1]) });
        });
        child.once('exit', (code) => reject(new Error(`the Python server exited (${code})`)));
      });
      servers.push({ name: 'Python ThreadingTCPServer', port: python.port, stop: () => python.child.kill() });
    }
    const rates = new Map(servers.map((s) => [s.name, [] as number[]]));
    const pings = new Map(servers.map((s) => [s.name, [] as number[]]));
    const floors: { threads: number; processes: number }[] = [];
    for (let turn = 0; turn < turns; turn++) {
      const order = [...servers.slice(turn % servers.length), ...servers.slice(0, turn % servers.length)];
      for (const s of order) {
        const result = await underLoad(s.port, rounds, ms);
        rates.get(s.name)?.push(result.perSecond);
        pings.get(s.name)?.push(...result.pings);
      }
      floors.push(await measureCores());
    }
    const inline = middle(rates.get(servers[0]?.name ?? '') ?? []);
    for (const { name } of servers) {
      const perSecond = middle(rates.get(name) ?? []);
      const sorted = (pings.get(name) ?? []).sort((a, b) => a - b);
      const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
      const best = name.startsWith('workers') && name.includes(`${cores} thread`);
      rows.push(
        {
          group: 'concurrency',
          what: `${name}: hashes of ${rounds} rounds per second (middle of ${turns} turns)`,
          value: perSecond,
          unit: '/s',
          baseline: 'of inline',
          ratio: perSecond / inline,
          ...(best ? { target: '≥ 1.7×', met: perSecond / inline >= 1.7 } : {}),
        },
        {
          group: 'concurrency',
          what: `${name}: ping p99 under that load`,
          value: p99,
          unit: 'ms',
          ...(best ? { target: '< 50 ms', met: p99 < 50 } : {}),
        },
      );
    }
    // The floor under those ratios: the same hashing with no server, two threads against two
    // processes (OpenSSL's locks are shared by the threads of one process; lesson 10's README).
    for (const [what, key] of [
      ['two worker threads of one process', 'threads'],
      ['two processes', 'processes'],
    ] as const)
      rows.push({
        group: 'concurrency',
        what: `floor, no server: ${what} hashing, against one thread (middle of ${turns} turns)`,
        value: middle(floors.map((f) => f[key])),
        unit: '× as fast',
      });
  } finally {
    for (const s of servers) s.stop();
  }
}

// ── Upload (lesson 09) ─────────────────────────────────────────────────────────────────────────
/**
 * Starts a program under /usr/bin/time, to read its peak memory (kB) once it exits, with all it
 * printed on stdout and the time from its start to its exit (ms).
 */
function measured(args: string[], onStdout?: (text: string) => void) {
  const started = performance.now();
  // Its own process group: a stop signal reaches the program under `time`, as Ctrl-C would.
  // portable: the bench measures peak memory with GNU time, on Linux, for the team, not learners.
  const child = spawn('/usr/bin/time', ['-f', 'maxrss %M', process.execPath, ...args], {
    cwd: ROOT,
    // portable: as above
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    onStdout?.(text);
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const done = new Promise<{ code: number | null; maxKb: number; stdout: string; ms: number }>((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        maxKb: Number(/maxrss (\d+)/.exec(stderr)?.[1] ?? Number.NaN),
        stdout,
        ms: performance.now() - started,
      }),
    ),
  );
  return { child, done };
}

/**
 * The lesson's client and server, as a learner runs them (node + tsx), uploading a file of
 * --upload-mib MiB, against two baselines: the raw loopback pipe (the same bytes written and
 * discarded in this process: no framing, no hash, no disk), and the plain way of storing a file
 * that arrives on a socket (`createReadStream(file).pipe(socket)` into a server program doing
 * `socket.pipe(createWriteStream(path))`, every option at its default: no hash, no frames).
 * The upload is timed from inside the client: its closing line (`sent 1.0 GiB in 2.34 s`)
 * counts from before its hash pass to the server's answer, while Node's and tsx's start-up,
 * which no baseline pays, is shown on a row of its own. The same programs then run again,
 * bundled to JavaScript (esbuild) on bare node, as they would be deployed: their peak memory is
 * the one the target is about, since tsx alone adds some 35 MiB.
 */
async function upload(): Promise<void> {
  const mib = Number(values['upload-mib']);
  const bytes = mib * 1024 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'bench-upload-'));
  /** Starts a server program under measured() and waits for its `listening on HOST:PORT` line. */
  const start = async (args: string[]) => {
    let listening: (port: number) => void = () => {};
    const ready = new Promise<number>((resolve) => {
      listening = resolve;
    });
    const program = measured(args, (text) => {
      const match = /listening on .*:(\d+)/.exec(text);
      if (match) listening(Number(match[1]));
    });
    return { ...program, port: await ready };
  };
  const stop = (program: ReturnType<typeof measured>) => {
    // portable: Linux only, as above
    if (program.child.pid) process.kill(-program.child.pid, 'SIGINT');
    return program.done;
  };
  try {
    const file = join(dir, 'big.bin');
    // A file of random-looking bytes, written in 1 MiB pieces.
    const block = randomBytes(1024 * 1024);
    const out = openSync(file, 'w');
    for (let i = 0; i < mib; i++) writeSync(out, block);
    closeSync(out);
    // Every file written lately, by anyone, goes to the disk before each timed run, and each run
    // deletes what it wrote: a run that starts with another's gigabyte still unwritten in memory
    // is slowed by its write-back, by 30% to 4× here. (The plain pipe's file used to stay until
    // the end, and every upload after it paid for that.)
    const settle = () => spawnSync('sync');
    settle();

    // The baseline: the same bytes over loopback, written and discarded, no framing, no disk.
    const sink = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkPort = (sink.address() as AddressInfo).port;
    // The median of three (after a warm-up): one pass swings by a third on this shared machine.
    const raw = await median(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port: sinkPort }, () =>
            createReadStream(file).pipe(socket).on('finish', resolve),
          );
          socket.on('error', reject);
        }),
      3,
    );
    sink.close();

    // The lesson's programs twice: under tsx, as a learner runs them, and bundled into plain
    // JavaScript on bare node, as they would be deployed (tsx alone costs some 35 MiB).
    const bundled = join(dir, 'bundled');
    await build({
      entryPoints: ['server', 'client'].map((name) =>
        join(ROOT, 'lessons/09-file-upload/solution', `${name}.ts`),
      ),
      bundle: true,
      platform: 'node',
      format: 'esm',
      outdir: bundled,
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    const runUpload = async (node: string[], server: string, client: string, clientArgs: string[] = []) => {
      const stored = join(dir, 'uploads');
      const running = await start([...node, server, '--port', '0', '--dir', stored]);
      settle();
      const sent = await measured([...node, client, '--port', String(running.port), ...clientArgs, file])
        .done;
      const served = await stop(running);
      rmSync(stored, { recursive: true, force: true });
      // The client's closing line (`sent 1.0 GiB in 2.34 s`): from its hash pass to the answer.
      const inside = Number(/^sent .* in (\d+\.\d+) s /m.exec(sent.stdout)?.[1]) * 1000;
      if (sent.code !== 0 || !(inside > 0)) throw new Error(`the upload failed:\n${sent.stdout}`);
      return { inside, startUp: sent.ms - inside, serverKb: served.maxKb, clientKb: sent.maxKb };
    };
    const lesson = 'lessons/09-file-upload/solution';
    const js = await runUpload([], join(bundled, 'server.mjs'), join(bundled, 'client.mjs'));
    const twoReads = await runUpload(['--import', 'tsx'], `${lesson}/server.ts`, `${lesson}/client.ts`, [
      '--hash-first',
    ]);

    // The plain way, in programs started like the lesson's (node + tsx for the server); and the
    // plain way with a SHA-256 on both sides, each over every chunk it passes on: the floor for
    // any upload that checks its bytes end to end, as the lesson's does.
    const plainFile = join(dir, 'plain.bin');
    const plainServer = (hashed: boolean) =>
      start([
        '--import',
        'tsx',
        '-e',
        `const fs = require('node:fs');
         const net = require('node:net');
         const server = net.createServer({ allowHalfOpen: true }, (socket) => {
           const hash = ${hashed} ? require('node:crypto').createHash('sha256') : undefined;
           if (hash) socket.on('data', (chunk) => hash.update(chunk));
           socket.pipe(fs.createWriteStream(${JSON.stringify(plainFile)}))
             .on('close', () => socket.end(hash ? hash.digest('hex') : 'stored'));
         });
         server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
         process.on('SIGINT', () => process.exit(0));`,
      ]);
    const plainServers = { plain: await plainServer(false), hashed: await plainServer(true) };
    const plainOnce = async (kind: keyof typeof plainServers) => {
      settle();
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: plainServers[kind].port }, () => {
          const source = createReadStream(file);
          if (kind === 'hashed') {
            const hash = createHash('sha256');
            source.on('data', (chunk) => hash.update(chunk));
          }
          source.pipe(socket);
        });
        socket.resume().on('close', () => resolve());
        socket.on('error', reject);
      });
      const ms = performance.now() - started;
      rmSync(plainFile);
      return ms;
    };
    // The lesson's upload and the plain pipes in turns, five times each, and the middle of each:
    // one pass of any swings by a third or more on this shared machine, and a busy spell then
    // slows them alike.
    const uploads: Awaited<ReturnType<typeof runUpload>>[] = [];
    const plains: number[] = [];
    const hashedPlains: number[] = [];
    for (let i = 0; i < 5; i++) {
      uploads.push(await runUpload(['--import', 'tsx'], `${lesson}/server.ts`, `${lesson}/client.ts`));
      plains.push(await plainOnce('plain'));
      hashedPlains.push(await plainOnce('hashed'));
    }
    const plain = middle(plains);
    const hashedPlain = middle(hashedPlains);
    const tsx = uploads.find(
      ({ inside }) => inside === middle(uploads.map((u) => u.inside)),
    ) as (typeof uploads)[number];
    const plainResult = await stop(plainServers.plain);
    await stop(plainServers.hashed);

    // What Node, and Node with tsx, cost before a program does anything, for scale.
    const idle = await measured(['--import', 'tsx', '-e', 'setTimeout(() => {}, 100)']).done;
    const idleMiB = `of an idle node + tsx, ${Math.round(idle.maxKb / 1024)} MiB`;
    const bare = await measured(['-e', 'setTimeout(() => {}, 100)']).done;
    const bareMiB = `of an idle node, ${Math.round(bare.maxKb / 1024)} MiB`;
    const rate = (ms: number) => bytes / 1024 / 1024 / (ms / 1000);
    rows.push(
      {
        group: 'upload',
        what: `${mib} MiB upload (one read, the hash in a trailer; middle of 5, in turns with the pipe)`,
        value: rate(tsx.inside),
        unit: 'MiB/s',
        // The spread, for a reader to judge: the same code has measured anything from 0.4× to 1.1×
        // here, from one run of the bench to the next, as the machine's neighbours came and went.
        baseline: `of a plain pipe into a file; its turns took ${spread(uploads.map((u) => u.inside))}, the pipe's ${spread(plains)}`,
        ratio: plain / tsx.inside,
        target: '≥ 0.85×',
        met: plain / tsx.inside >= 0.85,
      },
      {
        group: 'upload',
        what: `${mib} MiB plain pipe with a SHA-256 on both sides: the floor for an upload that checks its bytes`,
        value: rate(hashedPlain),
        unit: 'MiB/s',
        baseline: 'of a plain pipe into a file',
        ratio: plain / hashedPlain,
      },
      {
        group: 'upload',
        what: `${mib} MiB upload (one read) vs that floor`,
        value: rate(tsx.inside),
        unit: 'MiB/s',
        baseline: 'of the plain pipe hashing on both sides',
        ratio: hashedPlain / tsx.inside,
        target: '≥ 0.85×',
        met: hashedPlain / tsx.inside >= 0.85,
      },
      {
        group: 'upload',
        what: `${mib} MiB upload with --hash-first (two reads, the hash in the header)`,
        value: rate(twoReads.inside),
        unit: 'MiB/s',
        baseline: 'of a plain pipe into a file',
        ratio: plain / twoReads.inside,
      },
      {
        group: 'upload',
        what: `${mib} MiB upload (one read) vs the raw loopback pipe`,
        value: rate(tsx.inside),
        unit: 'MiB/s',
        baseline: 'of the raw pipe',
        ratio: raw / tsx.inside,
      },
      {
        group: 'upload',
        what: "upload: the client's start-up (node + tsx), not counted above",
        value: tsx.startUp,
        unit: 'ms',
      },
      {
        group: 'upload',
        what: `${mib} MiB upload, bundled to JavaScript on bare node`,
        value: rate(js.inside),
        unit: 'MiB/s',
        baseline: 'of the raw pipe',
        ratio: raw / js.inside,
      },
      {
        group: 'upload',
        what: `${mib} MiB plain pipe into a file (no hash, no frames) vs the raw pipe`,
        value: rate(plain),
        unit: 'MiB/s',
        baseline: 'of the raw pipe',
        ratio: raw / plain,
      },
      ...(['server', 'client'] as const).flatMap((program) => {
        const underTsx = program === 'server' ? tsx.serverKb : tsx.clientKb;
        const asJs = program === 'server' ? js.serverKb : js.clientKb;
        return [
          {
            group: 'upload',
            what: `upload: peak memory of the ${program}, bundled on bare node`,
            value: asJs / 1024,
            unit: 'MiB',
            baseline: bareMiB,
            ratio: asJs / bare.maxKb,
            target: '< 100 MiB',
            met: asJs / 1024 < 100,
          },
          {
            group: 'upload',
            what: `upload: peak memory of the ${program}, under tsx`,
            value: underTsx / 1024,
            unit: 'MiB',
            baseline: idleMiB,
            ratio: underTsx / idle.maxKb,
          },
        ];
      }),
      {
        group: 'upload',
        what: 'plain pipe into a file: peak memory of its server',
        value: plainResult.maxKb / 1024,
        unit: 'MiB',
        baseline: idleMiB,
        ratio: plainResult.maxKb / idle.maxKb,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const benches: Record<string, () => Promise<void>> = {
  feedback,
  framing,
  lines,
  chat,
  udp,
  upload,
  concurrency,
};
for (const [name, run] of Object.entries(benches)) {
  if (!groups.has(name)) continue;
  say(`running ${name}…`);
  await run();
}

if (values.json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const width = Math.max(...rows.map((r) => r.what.length));
  console.log('');
  for (const r of rows) {
    const value = `${r.value >= 100 ? Math.round(r.value) : r.value.toFixed(1)} ${r.unit}`;
    const ratio = r.ratio === undefined ? '' : ` · ${r.ratio.toFixed(2)}× (${r.baseline})`;
    const target = r.target ? ` · target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : '';
    console.log(`${r.group.padEnd(9)} ${r.what.padEnd(width)}  ${value.padStart(13)}${ratio}${target}`);
  }
}
