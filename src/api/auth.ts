import { KeyObject, createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthChecker } from 'type-graphql';
import { JWT_AUDIENCE, JWT_ISSUER } from '../config';
import { isUuid } from '../common/ids';
import { forbidden, unauthenticated } from './errors';
import type { RequestContext } from './context';
import { Caller, Role } from './caller';

export { Role } from './caller';
export type { Caller } from './caller';

/** The longest a token may live: 30 days. */
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** How far ahead of this server's clock a token's `iat` may be (another instance's clock). */
const CLOCK_SKEW_SECONDS = 60;

const keys = new Map<string, KeyObject>();

/**
 * The HMAC key of a secret, made once: given a string, jsonwebtoken first tries it as a PEM public
 * key on every call, which cost a third of a simple request's CPU.
 */
function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

export function signToken(secret: string, caller: Caller, ttlSeconds: number): string {
  const claims: Record<string, string> = { role: caller.role };
  if (caller.role === Role.PARTNER) claims.partnerId = caller.partnerId;
  if (caller.role === Role.AFFILIATE) claims.affiliateId = caller.affiliateId;
  if (caller.role === Role.MEMBER) claims.memberId = caller.memberId;
  return jwt.sign(claims, hmacKey(secret), { algorithm: 'HS256', expiresIn: ttlSeconds, issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
}

/** The caller a bearer token proves, or a reason it proves nothing. */
export function verifyToken(secret: string, token: string): Caller | { invalid: string } {
  let claims: jwt.JwtPayload | string;
  try {
    claims = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'], issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
  } catch (error) {
    return { invalid: error instanceof jwt.TokenExpiredError ? 'token expired' : 'token invalid' };
  }
  if (typeof claims === 'string' || typeof claims.exp !== 'number') return { invalid: 'token must carry exp' };
  // A token says when it was issued, not in the future, and lives at most the maximum: an `exp`
  // years ahead is refused even when its signature holds.
  if (typeof claims.iat !== 'number') return { invalid: 'token must carry iat' };
  if (claims.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) return { invalid: 'token issued in the future' };
  if (claims.exp - claims.iat > MAX_TOKEN_TTL_SECONDS) return { invalid: `token lifetime over the maximum of ${MAX_TOKEN_TTL_SECONDS} s` };
  // Subjects are ids this server issued: anything else is no subject at all.
  const subject = (name: string) => (typeof claims[name] === 'string' && isUuid(claims[name] as string) ? (claims[name] as string) : undefined);
  switch (claims.role) {
    case Role.ADMIN:
      return { role: Role.ADMIN };
    case Role.PARTNER: {
      const partnerId = subject('partnerId');
      return partnerId ? { role: Role.PARTNER, partnerId } : { invalid: 'PARTNER token without partnerId' };
    }
    case Role.AFFILIATE: {
      const affiliateId = subject('affiliateId');
      return affiliateId ? { role: Role.AFFILIATE, affiliateId } : { invalid: 'AFFILIATE token without affiliateId' };
    }
    case Role.MEMBER: {
      const memberId = subject('memberId');
      return memberId ? { role: Role.MEMBER, memberId } : { invalid: 'MEMBER token without memberId' };
    }
    default:
      return { invalid: 'token has no known role' };
  }
}

/**
 * Verified tokens, kept so a caller that presents the same bearer token request after request pays
 * for the HMAC check and the claim checks once: a hit is the same answer verifyToken gave, valid
 * until the token's `exp` (seconds since the epoch, checked again on every hit). Refusals are not
 * kept (they cost the same to recompute and must not fill the cache). Bounded: at `max` entries
 * the oldest half is dropped. One per server (per secret).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { caller: Caller; exp: number }>();

  constructor(private readonly secret: string, private readonly max = 10_000) {}

  /** verifyToken(secret, token), from the cache while the token has not expired. */
  verify(token: string): Caller | { invalid: string } {
    const hit = this.entries.get(token);
    if (hit && hit.exp > Date.now() / 1000) return hit.caller;
    if (hit) this.entries.delete(token);
    const verified = verifyToken(this.secret, token);
    if ('invalid' in verified) return verified;
    const exp = (jwt.decode(token) as jwt.JwtPayload).exp!;
    if (this.entries.size >= this.max) {
      let drop = this.max / 2;
      for (const key of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(key);
      }
    }
    this.entries.set(token, { caller: verified, exp });
    return verified;
  }
}

/** The one auth checker: `@Authorized()` needs any valid token, `@Authorized(Role.X, …)` one of those roles. */
export const authChecker: AuthChecker<RequestContext, Role> = ({ context }, roles) => {
  const caller = context.caller;
  if (!caller) throw unauthenticated(context.authFailure ? `A valid token is required: ${context.authFailure}` : undefined);
  if (roles.length > 0 && !roles.includes(caller.role)) throw forbidden(`This operation is for ${roles.join(' or ')}`);
  return true;
};

/** A short label for who wrote a row; idempotency keys are unique per caller and member. */
export function callerLabel(caller: Caller): string {
  switch (caller.role) {
    case Role.ADMIN:
      return 'operator';
    case Role.PARTNER:
      return `partner:${caller.partnerId}`;
    case Role.AFFILIATE:
      return `affiliate:${caller.affiliateId}`;
    case Role.MEMBER:
      return `member:${caller.memberId}`;
  }
}
