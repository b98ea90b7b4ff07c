/**
 * `npm start`: builds the site and serves it on 127.0.0.1 (port 4321, or the next free one).
 * The lesson files the pages link to are served read-only under /lessons/.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { paint } from '@course/cli/paint';
import { loadProgress } from '@course/cli/progress';
import { printCourse } from '@course/cli/report';
import { buildSite, DIST } from './build.ts';
import { REPO_ROOT } from './markdown.ts';
import { escapeHtml } from './page.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/** Where a URL path points: site/dist for pages, lessons/ for the files they link to. */
function resolvePath(urlPath: string): string | undefined {
  const path = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  const [root, rest] =
    path.startsWith(`lessons${sep}`) || path === 'lessons' ? [REPO_ROOT, path] : [DIST, path];
  const file = join(root, rest || 'index.html');
  // Never outside its root, whatever the URL says.
  return relative(root, file).startsWith('..') ? undefined : file;
}

export function createSiteServer(): http.Server {
  return http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = resolvePath(url.pathname);
    if (!file || !existsSync(file) || file.includes(`${sep}node_modules${sep}`)) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void response.end(`not found: ${url.pathname}\n`);
    }
    if (statSync(file).isDirectory()) {
      if (!url.pathname.endsWith('/')) {
        response.writeHead(301, { location: `${url.pathname}/` });
        return void response.end();
      }
      const entries = readdirSync(file, { withFileTypes: true })
        .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules')
        .map(
          (e) =>
            `<li><a href="${encodeURIComponent(e.name)}${e.isDirectory() ? '/' : ''}">${escapeHtml(e.name)}${e.isDirectory() ? '/' : ''}</a></li>`,
        );
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void response.end(
        `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(url.pathname)}</title><h1>${escapeHtml(url.pathname)}</h1><ul>${entries.join('')}</ul></html>`,
      );
    }
    // Lesson sources are shown as text; the site's own files by their type.
    const type = TYPES[extname(file)] ?? 'text/plain; charset=utf-8';
    response.writeHead(200, { 'content-type': file.startsWith(DIST) ? type : 'text/plain; charset=utf-8' });
    createReadStream(file)
      .on('error', () => response.destroy())
      .pipe(response);
  });
}

/** Listens on `port`, or the next free port after it (up to 20 tries). */
export async function listenFrom(server: http.Server, port: number, host = '127.0.0.1'): Promise<number> {
  for (let candidate = port; candidate < port + 20; candidate++) {
    const ok = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        if (error.code === 'EADDRINUSE') resolve(false);
        else reject(error);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError).once('listening', onListening);
      server.listen(candidate, host);
    });
    if (ok) return (server.address() as AddressInfo).port;
  }
  throw new Error(`ports ${port} to ${port + 19} on ${host} are all in use`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { pages, ms } = await buildSite();
  const server = createSiteServer();
  const port = await listenFrom(server, Number(process.env.PORT) || 4321);
  printCourse(loadProgress());
  console.log(
    `\n${pages} pages built in ${Math.round(ms)} ms. Read the course at ${paint.bold(`http://127.0.0.1:${port}/`)}`,
  );
  console.log(paint.dim('Ctrl-C stops this server.\n'));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // browsers keep connections open; do not wait for them
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
