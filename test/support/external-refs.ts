/**
 * Finds what in an HTML page (with inline scripts and styles) would make a browser load something
 * from another host. A "reference" is a URL the browser fetches by itself: src=/href= of elements
 * that load (script, link, img, iframe, …), CSS url() and @import, and fetch/import()/import … from/
 * Worker/importScripts/WebSocket/EventSource/sendBeacon/XMLHttpRequest targets. URLs in comments and
 * strings (licence headers, error-message links) are not references, nor are `href`s of anchors (<a>),
 * which the user may click but the page never loads.
 */
export interface ExternalReference {
  kind: string;
  url: string;
  context: string;
}

const ABS = String.raw`(?:https?:)?\/\/(?<host>[^\/"'\x60\s)\\]+)[^"'\x60\s)]*`;

const PATTERNS: { kind: string; re: RegExp }[] = [
  { kind: 'src', re: new RegExp(String.raw`\bsrc(?:set)?\s*[=:]\s*\\?["'\x60]?\s*` + ABS, 'gi') },
  { kind: 'href', re: new RegExp(String.raw`\bhref\s*[=:]\s*\\?["'\x60]?\s*` + ABS, 'gi') },
  { kind: 'css url()', re: new RegExp(String.raw`\burl\(\s*\\?["']?\s*` + ABS, 'gi') },
  { kind: 'css @import', re: new RegExp(String.raw`@import\s+\\?["']` + ABS, 'gi') },
  { kind: 'fetch', re: new RegExp(String.raw`\bfetch\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'import', re: new RegExp(String.raw`\bimport\s*\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'import from', re: new RegExp(String.raw`\bfrom\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'worker', re: new RegExp(String.raw`\b(?:Shared)?Worker\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'importScripts', re: new RegExp(String.raw`\bimportScripts\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'socket', re: new RegExp(String.raw`\bnew\s+(?:WebSocket|EventSource)\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'beacon', re: new RegExp(String.raw`\bsendBeacon\(\s*\\?["'\x60]` + ABS, 'gi') },
  { kind: 'xhr', re: new RegExp(String.raw`\.open\(\s*\\?["'](?:GET|POST|PUT|DELETE|HEAD)\\?["']\s*,\s*\\?["'\x60]` + ABS, 'gi') },
];

/** Is this href match the href of an anchor (JSX `("a",{href:…})`, `createElement("a",{href:…})` or `<a href=…>`)? */
function isAnchor(page: string, index: number): boolean {
  const before = page.slice(Math.max(0, index - 40), index);
  return /(?:\(\s*\\?["']a\\?["']\s*,\s*\{[^{}]*$)|(?:<a\s[^<>]*$)/i.test(before);
}

/** The references in `page` to a host other than `allowedHost` (e.g. "localhost:4000"). */
export function externalReferences(page: string, allowedHost: string): ExternalReference[] {
  const found: ExternalReference[] = [];
  for (const { kind, re } of PATTERNS) {
    for (const match of page.matchAll(re)) {
      const host = match.groups?.host ?? '';
      if (host.toLowerCase() === allowedHost.toLowerCase()) continue;
      if (kind === 'href' && isAnchor(page, match.index!)) continue;
      found.push({ kind, url: match[0], context: page.slice(Math.max(0, match.index! - 60), match.index! + match[0].length + 20) });
    }
  }
  return found;
}
