import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Caller, MAX_TOKEN_TTL_SECONDS, Role, signToken } from '../api/auth';
import { resolveJwtSecret } from '../config';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isUuid } from '../common/ids';

/**
 * npm run token -- --role ADMIN [--partner ID | --affiliate ID | --member ID] [--ttl SECONDS]
 * Prints a token signed with the server's secret (JWT_SECRET, or the one kept under DATA_DIR).
 */
function main(): void {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      partner: { type: 'string' },
      affiliate: { type: 'string' },
      member: { type: 'string' },
      ttl: { type: 'string', default: String(12 * 3600) },
    },
  });
  const role = values.role?.toUpperCase();
  for (const flag of ['partner', 'affiliate', 'member'] as const) {
    if (values[flag] !== undefined && !isUuid(values[flag]!)) throw new Error(`--${flag} must be an id (a UUID) as the API returns it`);
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) throw new Error(`--ttl must be from 1 to ${MAX_TOKEN_TTL_SECONDS} seconds`);
  let caller: Caller;
  switch (role) {
    case Role.ADMIN:
      caller = { role: Role.ADMIN };
      break;
    case Role.PARTNER:
      if (!values.partner) throw new Error('--role PARTNER needs --partner ID');
      caller = { role: Role.PARTNER, partnerId: values.partner };
      break;
    case Role.AFFILIATE:
      if (!values.affiliate) throw new Error('--role AFFILIATE needs --affiliate ID');
      caller = { role: Role.AFFILIATE, affiliateId: values.affiliate };
      break;
    case Role.MEMBER:
      if (!values.member) throw new Error('--role MEMBER needs --member ID');
      caller = { role: Role.MEMBER, memberId: values.member };
      break;
    default:
      throw new Error('--role must be ADMIN, PARTNER, AFFILIATE or MEMBER');
  }
  const nodeEnv = process.env.NODE_ENV ?? '';
  const dataDir = resolve(process.env.DATA_DIR || './.data');
  // A secret made here would sign tokens no running hub accepts: the hub makes it on its first start.
  if (!process.env.JWT_SECRET && !existsSync(join(dataDir, 'jwt-secret'))) {
    throw new Error(`no JWT secret under ${dataDir}: start the hub first with the same DATA_DIR (it creates one), or set JWT_SECRET to the hub's`);
  }
  const secret = resolveJwtSecret(dataDir, nodeEnv);
  console.log(signToken(secret, caller, ttl));
}

try {
  main();
} catch (error) {
  console.error(`token: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
