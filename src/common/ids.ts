import { randomFillSync, randomInt } from 'node:crypto';
import { canonicalCode } from './codes';

/** Random bytes drawn 4 KiB at a time: a posting makes several ids, and each draw is a system call. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function random16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

/** The latest time asked for, the millisecond its ids carry (later after 4,096 in one), and the counter (RFC 9562, 6.2, method 1). */
let lastAsked = -1;
let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix time in ms, then a 12-bit counter in `rand_a`, then 62
 * random bits. Time-ordered, so new rows land at the end of their indexes; and monotonic within this
 * process — ids made at the latest time asked for sort in the order they were made (a transaction's
 * events keep their order, and a member's events to one endpoint go out in that order). The counter
 * starts at a random value below 2048 each millisecond; past 4,096 ids in one, the ids carry the
 * next millisecond. An id for an earlier time than the latest (a deliberately earlier `now`) is
 * random within its millisecond.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = random16();
  let stamp = now;
  if (now >= lastAsked) {
    if (now > lastAsked && now > lastMs) {
      lastMs = now;
      counter = bytes.readUInt16BE(6) & 0x7ff;
    } else if (++counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    lastAsked = now;
    stamp = lastMs;
    bytes.writeUInt16BE(0x7000 | counter, 6);
  } else {
    bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  }
  bytes.writeUIntBE(stamp, 0, 6);
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * A transaction's public id carries its member's id, so that a lookup by transaction id goes
 * straight to the member's rows (one shard when distributed by member). Opaque to clients.
 */
export function encodeTransactionId(memberId: string, transactionId: string): string {
  return Buffer.from(memberId.replace(/-/g, '') + transactionId.replace(/-/g, ''), 'hex').toString('base64url');
}

export function decodeTransactionId(publicId: string): { memberId: string; transactionId: string } | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicId)) return undefined;
  const hex = Buffer.from(publicId, 'base64url').toString('hex');
  if (hex.length !== 64) return undefined;
  const asUuid = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return { memberId: asUuid(hex.slice(0, 32)), transactionId: asUuid(hex.slice(32)) };
}

/** Luhn check digit of a string of digits, as printed card numbers carry. */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A 12-digit member code (11 random digits and a Luhn check digit), printable on a card or QR code. */
export function newMemberCode(): string {
  let body = String(randomInt(1, 10));
  for (let i = 0; i < 10; i++) body += String(randomInt(0, 10));
  return body + luhnCheckDigit(body);
}

/** Member codes are accepted with spaces or dashes, as people copy them from cards (see canonicalCode). */
export function normalizeMemberCode(input: string): string | undefined {
  const digits = canonicalCode(input);
  if (!digits || !/^\d{12}$/.test(digits)) return undefined;
  return luhnCheckDigit(digits.slice(0, 11)) === Number(digits[11]) ? digits : undefined;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** An 8-character referral code from Crockford's alphabet (no I, L, O, U: nothing to misread). */
export function newReferralCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += CROCKFORD[randomInt(0, 32)];
  return code;
}

/**
 * A referral code in its canonical form (canonicalCode: any case, spaces and dashes ignored), with
 * the letters Crockford's alphabet leaves out read as the digits they look like (O → 0, I and L → 1).
 * Undefined when it cannot be a code.
 */
export function normalizeReferralCode(input: string): string | undefined {
  return canonicalCode(input)?.replace(/O/g, '0').replace(/[IL]/g, '1');
}
