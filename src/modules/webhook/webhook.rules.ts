import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/**
 * Webhook rules as pure functions: the event catalogue, who may receive what, the retry schedule,
 * Standard Webhooks signing (https://www.standardwebhooks.com, "Signature scheme": `v1,` + base64
 * HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the base64 part of a `whsec_` secret), and
 * the address checks against server-side request forgery.
 */

/** The event types a hub emits (docs/rules.md, Events and webhooks). `*` on an endpoint means all. */
export const EVENT_TYPES = [
  'member.enrolled', 'member.linked', 'member.erased',
  'transaction.posted', 'points.expiring', 'tier.changed', 'club.joined',
  'voucher.issued', 'voucher.redeemed', 'voucher.voided', 'voucher.expired',
  'commission.created', 'commission.approved', 'commission.reversed', 'commission.paid',
  'donation.made', 'settlement.closed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** The type of the events `sendTestWebhook` sends; never emitted by a change. */
export const TEST_EVENT_TYPE = 'webhook.test';
export const ALL_EVENTS = '*';

/** The member id that events of no member are keyed by (settlement runs, tests). */
export const NO_MEMBER = '00000000-0000-0000-0000-000000000000';

export enum OwnerType {
  OPERATOR = 'OPERATOR',
  PARTNER = 'PARTNER',
  AFFILIATE = 'AFFILIATE',
}

/**
 * Waits between attempts, after the first (immediate) one: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h —
 * eight attempts over about 27.5 hours (the schedule Svix publishes). After the last: FAILED.
 */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** An answer must come within this long (ms), else the attempt failed. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** An endpoint whose every attempt has failed for this long (ms) is disabled. */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/** How long (ms) the previous secret still signs after a rotation. */
export const ROTATION_OVERLAP_MS = 86_400_000;

/**
 * When the next attempt is due after `attemptsMade` attempts (1 = the first failed), or null when
 * that was the last. `random` in [0, 1) spreads retries by ±10% (jitter), so a receiver coming back
 * up is not hit by every retry at once.
 */
export function nextAttemptAt(attemptsMade: number, failedAt: Date, random: number): Date | null {
  const delay = RETRY_DELAYS_MS[attemptsMade - 1];
  if (delay === undefined) return null;
  return new Date(failedAt.getTime() + Math.round(delay * (0.9 + 0.2 * random)));
}

/** A new signing secret: `whsec_` + 24 random bytes in base64 (Standard Webhooks' form). */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Decoded signing keys by secret: a worker signs every delivery with one of a few hundred. */
const signingKeys = new Map<string, Buffer>();

/**
 * `v1,<base64 HMAC-SHA256>` of `${id}.${timestampSeconds}.${body}` under a `whsec_` secret. The body
 * as text or as its UTF-8 bytes (the same signature): a worker sends the bytes, shared by every
 * delivery of one body.
 */
export function sign(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  let key = signingKeys.get(secret);
  if (!key) {
    if (signingKeys.size >= 10_000) signingKeys.clear();
    signingKeys.set(secret, (key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')));
  }
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')}`;
}

/** The `webhook-signature` header: one signature per secret in force, space-separated. */
export function signatureHeader(secrets: string[], id: string, timestampSeconds: number, body: string | Buffer): string {
  return secrets.length === 1 ? sign(secrets[0]!, id, timestampSeconds, body) : secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' ');
}

/** Constant-time check of one `v1,…` signature (for the hub's own tests of the header; receivers use their library). */
export function signatureMatches(secret: string, id: string, timestampSeconds: number, body: string, header: string): boolean {
  const expected = Buffer.from(sign(secret, id, timestampSeconds, body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * The IANA special-purpose address registries' blocks that are not globally reachable (RFC 6890 and
 * successors; https://www.iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry),
 * plus multicast and deprecated relay/identifier blocks: a webhook target is a public unicast host.
 * IPv4: this network 0/8, private 10/8, 172.16/12, 192.168/16, shared (CGN) 100.64/10, loopback 127/8,
 * link-local 169.254/16 (cloud metadata 169.254.169.254 among them), IETF protocol assignments
 * 192.0.0/24, documentation TEST-NET-1/2/3 192.0.2/24, 198.51.100/24, 203.0.113/24, deprecated 6to4
 * relay anycast 192.88.99/24, benchmarking 198.18/15, multicast 224/4, reserved 240/4 (limited
 * broadcast 255.255.255.255 among them).
 */
const FORBIDDEN_V4: readonly (readonly [string, number])[] = [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8],
  ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]];
/**
 * IPv6: unspecified, loopback and IPv4-compatible (::/96, e.g. [::127.0.0.1]), IPv4-translated
 * (::ffff:0:0:0/96, RFC 2765: reaches the embedded IPv4), NAT64 (well-known 64:ff9b::/96 and
 * local-use 64:ff9b:1::/48, RFC 8215), discard-only 100::/64 and dummy 100:0:0:1::/64, IETF
 * protocol assignments 2001::/23 (Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID among them),
 * documentation 2001:db8::/32 and 3fff::/20, 6to4 2002::/16 (embeds an IPv4 address), SRv6 SIDs
 * 5f00::/16, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10 (deprecated),
 * multicast ff00::/8. IPv4-mapped addresses (::ffff:a.b.c.d) are judged as their IPv4.
 */
const FORBIDDEN_V6: readonly (readonly [string, number])[] = [['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48],
  ['100::', 64], ['100:0:0:1::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['3fff::', 20], ['5f00::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]];
const FORBIDDEN = new BlockList();
for (const [net, prefix] of FORBIDDEN_V4) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of FORBIDDEN_V6) FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** True for an address a webhook must never reach in production (IPv4-mapped IPv6 judged as its IPv4). */
export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return FORBIDDEN.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Checks an endpoint URL's form: http(s) with a host, no credentials, at most 2000 characters;
 * https only unless private targets are allowed (development and tests). Returns a reason or null.
 */
export function urlProblem(text: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url must be an absolute URL';
  }
  if (text.length > 2000) return 'url may have at most 2000 characters';
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'url must use https';
  if (url.username || url.password) return 'url must not carry credentials';
  if (!url.hostname) return 'url must name a host';
  return null;
}

/** Which event types an endpoint gets: `*` or a list; unknown types are refused by the caller. */
export function unknownEventTypes(types: string[]): string[] {
  return types.filter((t) => t !== ALL_EVENTS && !(EVENT_TYPES as readonly string[]).includes(t));
}

/** Characters of a receiver's answer kept with its attempt (`responseExcerpt`). */
export const EXCERPT_CHARS = 200;

/**
 * The first EXCERPT_CHARS characters (UTF-16 units) of a receiver's answer, kept with the attempt and
 * shown to the endpoint's owners (the operator too): control characters (C0, DEL, C1: U+009B is a
 * terminal escape on its own) and format characters (bidirectional overrides, zero-width characters)
 * become spaces. A character outside the Basic Multilingual Plane (an emoji) is never cut in half: one
 * that would straddle the end is left out (half of one would be stored as U+FFFD).
 */
export function excerpt(text: string): string {
  const blanked = text.replace(/[\p{Cc}\p{Cf}]/gu, ' ');
  const last = blanked.charCodeAt(EXCERPT_CHARS - 1);
  return blanked.slice(0, last >= 0xd800 && last <= 0xdbff ? EXCERPT_CHARS - 1 : EXCERPT_CHARS);
}
