/**
 * Files of a Vite build (the console and GraphiQL, `dist/console/`), served from memory.
 *
 * Safety rules, stated before the code:
 * - No request path ever reaches the file system: the folder is listed once, at start, and a
 *   request is answered only when its path is exactly one of the listed names. So `..`,
 *   encoded slashes or symlinks cannot escape the folder, whatever the path says.
 * - Hashed names (`assets/console-3f9a1c.js`) never change content: cached for a year,
 *   `immutable`. Pages (`*.html`) name the current hashes: `no-cache`, so a new build is seen
 *   at the next load.
 * - Every response carries `X-Content-Type-Options: nosniff` (set by the server) and a type
 *   from the table below; a file of another type is not served.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Smaller than this, gzip saves less than its headers cost. */
const GZIP_MIN_BYTES = 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface StaticFile {
  path: string;
  type: string;
  body?: Buffer;
  gzipped?: Buffer;
}

function listFiles(folder: string): string[] {
  try {
    return readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/'));
  } catch {
    return []; // not built: every lookup misses, and the caller says so
  }
}

export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(folder: string) {
    for (const name of listFiles(folder)) {
      const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
      if (type) this.files.set(name, { path: join(folder, name), type });
    }
  }

  /** Whether the build is there at all. */
  get built(): boolean {
    return this.files.size > 0;
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  /**
   * Answers with the file called `name` (relative to the folder, e.g. `assets/x.js`), with
   * `headers` added; false when there is no such file. Read on first use, then kept.
   */
  send(res: ServerResponse, name: string, acceptEncoding: string | undefined, headers: Record<string, string> = {}) {
    const file = this.files.get(name);
    if (!file) return false;
    file.body ??= readFileSync(file.path);
    const gzip = file.body.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(acceptEncoding ?? '');
    if (gzip) file.gzipped ??= gzipSync(file.body);
    const body = gzip && file.gzipped ? file.gzipped : file.body;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': body.length,
      'Cache-Control': name.endsWith('.html') ? 'no-cache' : IMMUTABLE,
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
