import { registerEnumType } from 'type-graphql';

// Apart from auth.ts, so the request context can name the caller without importing the auth checker (which imports the context).
export enum Role {
  ADMIN = 'ADMIN',
  PARTNER = 'PARTNER',
  AFFILIATE = 'AFFILIATE',
  MEMBER = 'MEMBER',
}
registerEnumType(Role, { name: 'Role' });

/** Who is calling, as the token says. */
export type Caller =
  | { role: Role.ADMIN }
  | { role: Role.PARTNER; partnerId: string }
  | { role: Role.AFFILIATE; affiliateId: string }
  | { role: Role.MEMBER; memberId: string };
