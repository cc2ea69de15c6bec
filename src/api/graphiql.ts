import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

/**
 * GraphiQL served by the hub itself: `@graphql-yoga/render-graphiql` inlines GraphiQL's scripts,
 * styles, workers and favicon into one HTML page (~9 MB), so the browser asks no other host.
 * The page is rendered once per process and kept in memory raw, gzip and brotli; a
 * Content-Security-Policy lets the page talk to the hub only.
 */

/** What the headers editor shows first: the place for a token, and how to get one. */
export const GRAPHIQL_HEADERS_HINT = JSON.stringify({ Authorization: 'Bearer <paste a token: npm run token -- --role ADMIN>' }, null, 2);

const DEFAULT_QUERY = `# coalition-hub GraphiQL
#
# Put a token in the Headers tab below ("Authorization": "Bearer <token>");
# an operator token comes from: npm run token -- --role ADMIN
# Ctrl+Enter runs the query; the Docs button shows the whole schema.

{
  coalition {
    name
    currency
  }
}
`;

/**
 * The browser may run the inline scripts and styles and the workers made from blobs, and may
 * connect to the hub ('self') only: no other host, even if some code in the bundle tried.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

interface Page {
  raw: Buffer;
  gzip: Buffer;
  br: Buffer;
  etag: string;
}

let page: Promise<Page> | undefined;

/** The page, rendered and compressed once per process (gzip level 6, brotli quality 5: a second, not a minute, for 9 MB). */
export function graphiqlPage(): Promise<Page> {
  page ??= (async () => {
    const html = renderGraphiQL({
      title: 'coalition-hub GraphiQL',
      endpoint: '/graphql',
      headers: GRAPHIQL_HEADERS_HINT,
      defaultQuery: DEFAULT_QUERY,
      // Tokens stay out of the browser's storage unless the user turns this on in the settings.
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers',
      method: 'POST',
    });
    const raw = Buffer.from(html, 'utf8');
    const [gz, br] = await Promise.all([
      promisify(gzip)(raw, { level: 6 }),
      promisify(brotliCompress)(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
    ]);
    return { raw, gzip: gz, br, etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"` };
  })();
  page.catch(() => { page = undefined; });
  return page;
}

/** A browser opening /graphql: GET or HEAD, HTML accepted, and no GraphQL query in the URL. */
export function wantsGraphiQL(req: IncomingMessage, url: URL): boolean {
  const method = req.method?.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (url.searchParams.has('query')) return false;
  return /\btext\/html\b/i.test(req.headers.accept ?? '');
}

/** Picks br over gzip over identity from Accept-Encoding (q=0 refuses). */
export function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    accepted.set(name, q ? Number(q[1]) : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return undefined;
}

/** Writes the GraphiQL page (304 when the browser has this version). */
export async function serveGraphiQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const p = await graphiqlPage();
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': GRAPHIQL_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
    etag: p.etag,
    vary: 'Accept, Accept-Encoding',
  };
  if (req.headers['if-none-match'] === p.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const encoding = pickEncoding(req.headers['accept-encoding']);
  const body = encoding === 'br' ? p.br : encoding === 'gzip' ? p.gzip : p.raw;
  if (encoding) headers['content-encoding'] = encoding;
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method?.toUpperCase() === 'HEAD' ? undefined : body);
}
