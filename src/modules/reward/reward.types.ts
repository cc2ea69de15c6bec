import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { DecimalScalar } from '../../api/scalars';
import { ConnectionType } from '../../common/pagination';
import { Money, Transaction } from '../ledger/ledger.types';
import { Member } from '../member/member.types';
import { PartnerRef } from '../partner/partner.types';

export enum RewardKind {
  /** Claiming issues a voucher the reward's partner redeems at its till. */
  VOUCHER = 'VOUCHER',
  /** Claiming joins (or extends) the reward's club. */
  MEMBERSHIP = 'MEMBERSHIP',
}
registerEnumType(RewardKind, { name: 'RewardKind' });

export enum VoucherState {
  ISSUED = 'ISSUED',
  REDEEMED = 'REDEEMED',
  VOIDED = 'VOIDED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(VoucherState, { name: 'VoucherState' });

export enum MembershipSource {
  /** Bought with points: a MEMBERSHIP reward claimed. */
  POINTS = 'POINTS',
  /** Bought with money: grantClubMembership. */
  PAID = 'PAID',
}
registerEnumType(MembershipSource, { name: 'MembershipSource' });

@ObjectType({ description: 'A club: coalition-wide (no partner) or a partner’s own' })
export class Club {
  @Field(() => ID)
  id: string;

  @Field(() => PartnerRef, { nullable: true, description: 'Null: a coalition club' })
  partner: PartnerRef | null;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => DecimalScalar, { description: '≥ 1; at the club partner’s purchases (a coalition club: everywhere), multiplied with the tier’s' })
  earnMultiplier: string;

  @Field(() => Int)
  membershipDays: number;
}

@ObjectType({ description: 'A member’s membership of a club, active until expiresAt' })
export class ClubMembership {
  @Field(() => Club)
  club: Club;

  @Field()
  expiresAt: Date;

  @Field(() => MembershipSource, { description: 'How the latest period was bought' })
  source: MembershipSource;

  @Field(() => Money, { nullable: true, description: 'Money paid for the latest period (PAID)' })
  paidAmount: Money | null;
}

@ObjectType({ description: 'A reward in the catalog' })
export class Reward {
  @Field(() => ID)
  id: string;

  @Field(() => PartnerRef, { nullable: true, description: 'The partner that offers it and is paid per claim; null: the operator’s' })
  partner: PartnerRef | null;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => RewardKind)
  kind: RewardKind;

  @Field(() => Club, { nullable: true, description: 'MEMBERSHIP: the club it joins' })
  club: Club | null;

  @Field(() => Int)
  pointsPrice: number;

  @Field(() => Money, { nullable: true, description: 'Money the member also pays at the till (points + cash)' })
  cashPrice: Money | null;

  @Field(() => Money, { description: 'What the reward’s partner is paid per claim' })
  value: Money;

  @Field(() => Int, { nullable: true, description: 'Null: unlimited' })
  stock: number | null;

  @Field(() => Int)
  claimed: number;

  @Field(() => Int, { nullable: true })
  perMemberLimit: number | null;

  @Field(() => [String], { description: 'Empty: every member' })
  tiers: string[];

  @Field(() => [Club], { description: 'Empty: every member; else members of one of these clubs' })
  clubs: Club[];

  @Field(() => Date, { nullable: true })
  startsAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive' })
  endsAt: Date | null;

  @Field()
  active: boolean;

  @Field(() => Int)
  voucherValidityDays: number;

  @Field()
  createdAt: Date;
}

@ObjectType()
export class RewardConnection extends ConnectionType(Reward, 'Reward') {}

@ObjectType({ description: 'The cheapest reward the member is eligible for but cannot yet afford' })
export class NextReward {
  @Field(() => Reward)
  reward: Reward;

  @Field(() => Int)
  pointsNeeded: number;
}

@ObjectType()
export class CreateRewardPayload {
  @Field(() => Reward, { nullable: true })
  reward: Reward | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class UpdateRewardPayload {
  @Field(() => Reward, { nullable: true })
  reward: Reward | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class CreateClubPayload {
  @Field(() => Club, { nullable: true })
  club: Club | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class GrantClubMembershipPayload {
  @Field(() => ClubMembership, { nullable: true })
  membership: ClubMembership | null;

  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType({ description: 'A voucher a claim issued: its reward’s partner redeems it once at its till' })
export class Voucher {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Grouped for reading aloud (XXXX-XXXX-XXXX-X); matched without case, dashes or spaces' })
  code: string;

  @Field(() => VoucherState)
  state: VoucherState;

  @Field(() => Reward)
  reward: Reward;

  @Field({ description: 'The operator: the member id; the member: its member code; the reward’s partner: the member code masked to its last 3 digits' })
  member: string;

  @Field()
  issuedAt: Date;

  @Field()
  expiresAt: Date;

  @Field(() => Date, { nullable: true })
  redeemedAt: Date | null;
}

@ObjectType()
export class VoucherConnection extends ConnectionType(Voucher, 'Voucher') {}

@ObjectType()
export class ClaimRewardPayload {
  @Field(() => Voucher, { nullable: true, description: 'VOUCHER rewards' })
  voucher: Voucher | null;

  @Field(() => ClubMembership, { nullable: true, description: 'MEMBERSHIP rewards: the membership as it stands after the claim' })
  membership: ClubMembership | null;

  @Field(() => Transaction, { nullable: true })
  transaction: Transaction | null;

  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class RedeemVoucherPayload {
  @Field(() => Voucher, { nullable: true })
  voucher: Voucher | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}

@ObjectType()
export class VoidVoucherPayload {
  @Field(() => Voucher, { nullable: true })
  voucher: Voucher | null;

  @Field(() => Transaction, { nullable: true, description: 'The REVERSAL that gave the points back' })
  transaction: Transaction | null;

  @Field(() => Member, { nullable: true })
  member: Member | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}
