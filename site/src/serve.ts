/**
 * `npm start`: builds the site and serves it on 127.0.0.1 (port 4321, or the next free one).
 * The lesson files the pages link to are served read-only under /lessons/.
 *
 * Files are sent by serve-static (Express's), which answers malformed URLs, `..`, dotfiles,
 * ranges and conditional requests correctly. Around it, what a server on a learner's machine
 * also needs: only GET and HEAD; only this machine's own names in the Host header (so that a web
 * page cannot read the course through DNS rebinding); no symlink followed out of lessons/; and
 * headers that stop a page from being framed or a text file from being run as a script.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { paint } from '@course/cli/paint';
import { printCourse } from '@course/cli/report';
import { learnerLanguage } from '@course/model/editions';
import { loadProgress } from '@course/model/progress';
import serveStatic from 'serve-static';
import { buildSite, DIST } from './build.ts';
import { REPO_ROOT } from './markdown.ts';
import { editionFolder, escapeHtml } from './page.ts';

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  // The pages load their own scripts and styles only; Shiki colours code with style attributes.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export interface SiteFolders {
  /** The built pages (site/dist). */
  dist?: string;
  /** The folder that holds lessons/ (the repository). */
  root?: string;
}

export function createSiteServer({ dist = DIST, root = REPO_ROOT }: SiteFolders = {}): http.Server {
  // Pages and assets by their type; lesson sources always as plain text, never run.
  const site = serveStatic(dist, { dotfiles: 'ignore', index: ['index.html'], fallthrough: true });
  const lessons = serveStatic(root, {
    dotfiles: 'ignore',
    index: false,
    fallthrough: true,
    setHeaders: (response) => response.setHeader('content-type', 'text/plain; charset=utf-8'),
  });
  return http.createServer((request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const port = (request.socket.address() as AddressInfo).port;
    if (!isOwnHost(request.headers.host, port)) {
      return refuse(response, 421, `this server answers to 127.0.0.1:${port} and localhost:${port} only\n`);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return refuse(response, 405, `${request.method} is not allowed here: GET or HEAD\n`);
    }
    // `//host…` is an authority to Node's URL parser, which send (1.2) then crashes on: a path
    // starts with one slash, whatever the request says.
    request.url = (request.url ?? '/').replace(/^\/+/, '/');
    const path = request.url.split('?')[0] as string;
    const notFound = () => refuse(response, 404, `not found: ${path}\n`);
    const onError = (error?: { status?: number; statusCode?: number }) => {
      const status = error?.status ?? error?.statusCode ?? 404;
      if (status === 404) return notFound();
      refuse(response, status, `${http.STATUS_CODES[status] ?? 'cannot serve this'}: ${path}\n`);
    };
    if (!/^\/lessons(\/|$)/.test(path)) return void site(request, response, onError);

    const file = lessonFile(root, path);
    if (file === undefined) return notFound();
    if (file.directory) {
      if (!path.endsWith('/')) {
        // A relative Location: it cannot name another host, whatever the path holds.
        response.writeHead(301, { location: `./${encodeURIComponent(file.name)}/` });
        return void response.end();
      }
      return listing(response, file.path, path);
    }
    lessons(request, response, onError);
  });
}

/** `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` (the port may be left out only when it is 80). */
function isOwnHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?$/i.exec(host);
  return match !== null && Number(match[2] ?? 80) === port;
}

function refuse(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}

/**
 * The lesson file or folder a /lessons/ path names, only when it really lies inside lessons/
 * (after following links) and no part of it is hidden or node_modules.
 */
function lessonFile(
  root: string,
  urlPath: string,
): { path: string; name: string; directory: boolean } | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const parts = decoded.split('/').filter(Boolean);
  if (parts.some((p) => p.startsWith('.') || p === 'node_modules' || p.includes('\\') || p.includes('\0'))) {
    return undefined;
  }
  try {
    const real = realpathSync(join(root, ...parts));
    const inside = relative(realpathSync(join(root, 'lessons')), real);
    if (inside.startsWith('..') || inside.startsWith(sep)) return undefined;
    return { path: real, name: parts.at(-1) ?? 'lessons', directory: statSync(real).isDirectory() };
  } catch {
    return undefined;
  }
}

function listing(response: http.ServerResponse, dir: string, urlPath: string): void {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules')
    .map((e) => {
      const slash = e.isDirectory() ? '/' : '';
      return `<li><a href="${encodeURIComponent(e.name)}${slash}">${escapeHtml(e.name)}${slash}</a></li>`;
    });
  const title = escapeHtml(urlPath);
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><ul>${entries.join('')}</ul></html>`,
  );
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
    `\n${pages} pages built in ${Math.round(ms)} ms. Read the course at ${paint.bold(`http://127.0.0.1:${port}/${editionFolder(learnerLanguage())}`)}`,
  );
  console.log(paint.dim('Ctrl-C stops this server.\n'));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // browsers keep connections open; do not wait for them
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
