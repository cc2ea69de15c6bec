import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../api/errors';
import { ConnectionType } from '../../common/pagination';
import { Money } from '../ledger/ledger.types';
import { PartnerRef } from '../partner/partner.types';
import { CommissionStatus } from './commission.rules';

registerEnumType(CommissionStatus, { name: 'CommissionStatus' });

@ObjectType({ description: 'A publisher or influencer who brings members and sales to partners' })
export class Affiliate {
  @Field(() => ID)
  id: string;

  @Field({ description: 'URL-safe; members enroll and purchases are made with it' })
  code: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true, description: 'The operator sees it; the affiliate itself too' })
  email: string | null;

  @Field(() => String, { nullable: true, description: 'E.164; seen as the e-mail is' })
  phone: string | null;

  @Field()
  createdAt: Date;
}

export const AffiliateConnection = ConnectionType(Affiliate, 'Affiliate');

@ObjectType({ description: 'What an affiliate earns on one purchase (or takes back on its refund)' })
export class Commission {
  @Field(() => ID)
  id: string;

  @Field(() => PartnerRef)
  partner: PartnerRef;

  @Field(() => ID)
  affiliateId: string;

  @Field(() => Money, { description: 'Negative for a clawback after a refund' })
  amount: Money;

  @Field(() => CommissionStatus)
  status: CommissionStatus;

  @Field()
  occurredAt: Date;

  @Field({ description: 'When the hold ends and the commission becomes payable' })
  approvesAt: Date;

  @Field(() => Money)
  purchaseAmount: Money;

  @Field(() => ID, { nullable: true, description: 'The commission a clawback takes back from' })
  clawbackOf: string | null;

  @Field(() => ID, { nullable: true, description: 'The settlement run that paid it' })
  settlementRunId: string | null;

  @Field(() => String, { description: "The member, masked: an affiliate never sees a member's identifiers" })
  member: string;
}

export const CommissionConnection = ConnectionType(Commission, 'Commission');

@ObjectType({ description: 'Sums of commissions by status; they add up to the commissions listed' })
export class CommissionTotals {
  @Field(() => Money)
  pending: Money;

  @Field(() => Money)
  approved: Money;

  @Field(() => Money)
  paid: Money;

  @Field(() => Money)
  reversed: Money;
}

@ObjectType()
export class CreateAffiliatePayload {
  @Field(() => Affiliate, { nullable: true })
  affiliate: Affiliate | null;

  @Field(() => [UserError])
  userErrors: UserError[];
}
