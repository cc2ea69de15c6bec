import { Donation } from '../charity/charity.types';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { IdentifierKind } from '../member/member.entity';
import { Member } from '../member/member.types';
import { Transaction } from '../ledger/ledger.types';

/** A way to reach a member (docs/rules.md, Members and identity). */
export enum Channel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PUSH = 'PUSH',
}
registerEnumType(Channel, { name: 'Channel' });

/** What a member agrees to receive on a channel, from nothing to everything. */
export enum ConsentLevel {
  NONE = 'NONE',
  TRANSACTIONAL = 'TRANSACTIONAL',
  MONTHLY = 'MONTHLY',
  WEEKLY = 'WEEKLY',
  ALL = 'ALL',
}
registerEnumType(ConsentLevel, { name: 'ConsentLevel', description: 'TRANSACTIONAL: receipts and account messages only, no marketing' });

// The kinds are the member module's; registered here because the export is the first field to show them.
registerEnumType(IdentifierKind, { name: 'IdentifierKind' });

@ObjectType({ description: "A member's communication preference on one channel" })
export class Preference {
  @Field(() => Channel)
  channel: Channel;

  @Field(() => ConsentLevel, { description: 'TRANSACTIONAL until the member chooses; NONE once the member is erased' })
  level: ConsentLevel;

  @Field(() => Date, { nullable: true, description: 'When the member last set it; null while it is the default' })
  updatedAt: Date | null;
}

@ObjectType()
export class UpdatePreferencesPayload {
  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class EraseMemberPayload {
  @Field(() => Member, { nullable: true, description: 'The anonymized member: its ledger and balance are kept' })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType({ description: 'An identifier that finds the member' })
export class MemberIdentifier {
  @Field(() => IdentifierKind)
  kind: IdentifierKind;

  @Field({ description: 'As stored: normalized; an EXTERNAL_REF is "<partnerId>:<reference>"' })
  value: string;
}

@ObjectType({ description: "A partner the member is linked to, with the partner's own reference for it" })
export class MemberPartnerLink {
  @Field(() => ID)
  partnerId: string;

  @Field()
  partnerName: string;

  @Field()
  linkedAt: Date;

  @Field(() => String, { nullable: true })
  externalRef: string | null;
}

/** An export holds at most this many transactions, oldest first; it says when there were more. */
export const MAX_EXPORT_TRANSACTIONS = 100_000;

@ObjectType({ description: 'Everything the hub holds about one member' })
export class MemberExport {
  @Field()
  exportedAt: Date;

  @Field(() => Member)
  member: Member;

  @Field(() => [MemberIdentifier])
  identifiers: MemberIdentifier[];

  @Field(() => [MemberPartnerLink], { description: 'Oldest link first' })
  partners: MemberPartnerLink[];

  @Field(() => [Preference])
  preferences: Preference[];

  @Field(() => [Transaction], { description: `Oldest first; at most the first ${MAX_EXPORT_TRANSACTIONS} (see transactionsTruncated)` })
  transactions: Transaction[];

  @Field({ description: 'true when the member has more transactions than the export holds' })
  transactionsTruncated: boolean;

  @Field(() => [Donation], { description: 'Every donation with its receipt, oldest first' })
  donations: Donation[];

  @Field({ description: 'The same export as one JSON document, for download' })
  json: string;
}
