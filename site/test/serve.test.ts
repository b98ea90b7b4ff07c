/**
 * `npm start`'s server against hostile requests: the ones that killed it once, what a web page
 * could make a browser send to it, and a fuzz of random request lines. It must answer each one
 * and go on serving.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAfterTest, connect, LIVENESS_MS, listen, mulberry32 } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../src/markdown.ts';
import { createSiteServer } from '../src/serve.ts';

/** A site with one page, and a lessons/ folder holding a file, a dotfile and two links out. */
async function site(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'site-'));
  closeAfterTest(() => rmSync(dir, { recursive: true, force: true }));
  const dist = join(dir, 'dist');
  const lesson = join(dir, 'lessons', '01-x');
  mkdirSync(dist, { recursive: true });
  mkdirSync(lesson, { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(join(dist, '.secret'), 'hidden');
  writeFileSync(join(lesson, 'client.ts'), 'export const x = 1;\n');
  writeFileSync(join(lesson, '.env'), 'TOKEN=secret\n');
  writeFileSync(join(dir, 'outside.txt'), 'not a lesson file\n');
  symlinkSync(join(dir, 'outside.txt'), join(lesson, 'outside.txt'));
  symlinkSync(join(REPO_ROOT, '.git'), join(lesson, 'git'));
  return listen(createSiteServer({ dist, root: dir }));
}

/**
 * Sends raw bytes, without half-closing (Node's HTTP server drops a half-closed connection's
 * answers), and returns everything the server answered until it closed: end the last request
 * with `Connection: close`.
 */
async function raw(port: number, request: string): Promise<string> {
  const peer = await connect(port);
  await peer.write(request);
  return (
    await peer.closed({ allowReset: true, expected: 'the server to answer and close', ms: LIVENESS_MS })
  ).toString('latin1');
}

const get = (port: number, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: 'manual' });

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

describe('the site server', () => {
  test('a malformed URL is answered 400 or 404, and the server keeps serving', async () => {
    const port = await site();
    for (const path of ['/%', '/lessons/%ff', '/%E0%A4%A', '/lessons/01-x/%']) {
      expect([400, 404], path).toContain((await get(port, path)).status);
    }
    const slashes = await raw(
      port,
      `GET // HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(slashes), slashes).toBeLessThan(500);
    expect((await get(port, '/')).status).toBe(200);
  });

  test('pipelined requests before a bad one are all answered', async () => {
    const port = await site();
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const good = `GET / HTTP/1.1\r\n${host}\r\n`;
    const answer = await raw(
      port,
      `${good}${good}${good}GET /% HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    );
    expect(answer.match(/HTTP\/1\.1 200/g)?.length, answer).toBe(3);
    expect(answer).toMatch(/HTTP\/1\.1 (400|404)/);
  });

  test('no redirect leads to another host', async () => {
    const port = await site();
    for (const path of ['/.//evil.com/..%2flessons', '//evil.com/', '/lessons//evil.com', '/lessons/01-x']) {
      const location = (await get(port, path)).headers.get('location');
      if (location)
        expect(new URL(location, `http://127.0.0.1:${port}${path}`).host, path).toBe(`127.0.0.1:${port}`);
    }
    expect((await get(port, '/lessons/01-x')).headers.get('location')).toBe('./01-x/');
  });

  test('dotfiles and links out of lessons/ are not served; lesson files are, as plain text', async () => {
    const port = await site();
    for (const path of [
      '/lessons/01-x/.env',
      '/.secret',
      '/lessons/01-x/outside.txt',
      '/lessons/01-x/git/config',
      '/lessons/01-x/git/',
    ]) {
      expect((await get(port, path)).status, path).toBe(404);
    }
    const file = await get(port, '/lessons/01-x/client.ts');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const listing = await (await get(port, '/lessons/01-x/')).text();
    expect(listing).toContain('client.ts');
    expect(listing).not.toContain('.env');
  });

  test('GET and HEAD only; security headers on every answer; only this machine’s names as Host', async () => {
    const port = await site();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
    const trace = await raw(port, `TRACE / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(trace)).toBe(405);
    const page = await get(port, '/');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await get(port, '/', { host: `localhost:${port}` })).status).toBe(200);
    // DNS rebinding: a page from evil.example whose name now points at 127.0.0.1.
    const rebound = await raw(
      port,
      `GET / HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(rebound)).toBe(421);
  });

  test(
    'survives 10,000 random request lines and paths, then still serves the home page',
    async () => {
      const port = await site();
      const random = mulberry32(Number(process.env.COURSE_SEED) || 20261204);
      // Mostly what the HTTP parser accepts, so that the server's own routing is what is tried;
      // now and then bytes that no parser should accept.
      const path = "/%.?#:@!$&'()*+,;=-_~azAZ09ef";
      const garbage = ' \t\\"<>[]{}|^`\u00ff\u0000\r\n';
      const pick = (from: string) => from[Math.floor(random() * from.length)];
      const piece = () =>
        Array.from({ length: 1 + Math.floor(random() * 24) }, () =>
          random() < 0.002 ? pick(garbage) : pick(path),
        ).join('');
      const methods = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS'];
      const folders = ['', '', 'lessons/', 'lessons/01-x/', 'lessons/01-x/../'];
      let sent = 0;
      let answered = 0;
      while (sent < 10_000) {
        // 100 pipelined requests a connection; a parse error ends the connection, as it should.
        const batch = Array.from({ length: 100 }, () => {
          const method = methods[Math.floor(random() * methods.length)];
          const folder = folders[Math.floor(random() * folders.length)];
          return `${method} /${folder}${piece()} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
        });
        sent += batch.length;
        const answer = await raw(
          port,
          `${batch.join('')}GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
        );
        answered += answer.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0;
        expect(answer, 'no request is a server error').not.toMatch(/HTTP\/1\.1 5\d\d/);
      }
      // Up to a request the parser refuses, every request of a batch is answered.
      expect(answered).toBeGreaterThan(2_500);
      expect((await get(port, '/')).status).toBe(200);
    },
    LIVENESS_MS * 6,
  );
});
