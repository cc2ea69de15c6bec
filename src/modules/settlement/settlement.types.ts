import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { BigIntScalar } from '../../api/scalars';
import { ConnectionType } from '../../common/pagination';
import { Money } from '../ledger/ledger.types';

export enum PartyType {
  PARTNER = 'PARTNER',
  CAUSE = 'CAUSE',
  AFFILIATE = 'AFFILIATE',
  OPERATOR = 'OPERATOR',
}
registerEnumType(PartyType, { name: 'PartyType' });

export enum SettlementLineKind {
  REDEMPTION = 'REDEMPTION',
  DONATION = 'DONATION',
  MATCH = 'MATCH',
  COMMISSION = 'COMMISSION',
  DEBT_RECOVERY = 'DEBT_RECOVERY',
  /** A reward claimed: BILATERAL each consumed lot's issuer pays the reward's partner (or the operator, for its rewards); CLEARING the operator pays the reward's partner. A void or expiry posts it negative. */
  REWARD = 'REWARD',
  /** CLEARING: a partner pays the operator for the points it issued (negative: refunds returned the price). */
  ISSUANCE = 'ISSUANCE',
}
registerEnumType(SettlementLineKind, { name: 'SettlementLineKind' });

/** The operator's id as a party. */
export const OPERATOR_PARTY_ID = 'operator';

@ObjectType()
export class Party {
  @Field(() => PartyType)
  type: PartyType;

  @Field(() => ID, { description: `The partner's, cause's or affiliate's id; "${OPERATOR_PARTY_ID}" for the operator` })
  id: string;

  @Field()
  name: string;
}

@ObjectType({ description: 'What one party owes another for one kind of event in the period' })
export class SettlementLine {
  @Field(() => Party)
  payer: Party;

  @Field(() => Party)
  payee: Party;

  @Field(() => SettlementLineKind)
  kind: SettlementLineKind;

  @Field(() => BigIntScalar)
  points: bigint;

  @Field(() => Money, { description: 'Σ points × rate in force at each event, rounded half up once' })
  amount: Money;
}

@ObjectType()
export class NetPosition {
  @Field(() => Party)
  party: Party;

  @Field(() => Money, { description: 'Positive: receives' })
  amount: Money;
}

@ObjectType()
export class NetTransfer {
  @Field(() => Party)
  from: Party;

  @Field(() => Party)
  to: Party;

  @Field(() => Money)
  amount: Money;
}

@ObjectType({ description: 'A closed period [periodStart, periodEnd) of posting time; never changes' })
export class SettlementRun {
  @Field(() => ID)
  id: string;

  @Field()
  periodStart: Date;

  @Field()
  periodEnd: Date;

  @Field()
  closedAt: Date;

  @Field()
  currency: string;

  currencyExponent: number;
}

export const SettlementRunConnection = ConnectionType(SettlementRun, 'SettlementRun');

@ObjectType()
export class CloseSettlementPeriodPayload {
  @Field(() => SettlementRun, { nullable: true })
  run: SettlementRun | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}
