import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One person, shared by all partners' })
export class Member {
  @Field(() => ID)
  id: string;

  @Field({ description: '12 digits with a Luhn check digit, printable on a card or QR code' })
  memberCode: string;

  @Field({ description: 'The code a friend enrolls with (member-get-member)' })
  referralCode: string;

  @Field(() => String, { nullable: true, description: 'A partner sees it only if it supplied this e-mail itself' })
  email: string | null;

  @Field(() => String, { nullable: true, description: 'E.164. A partner sees it only if it supplied this phone itself' })
  phone: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD. A partner sees it only if it supplied this birth date itself' })
  birthDate: string | null;

  @Field(() => Int, { description: 'Points available: lots remaining minus debt; negative while in debt' })
  balance: number;

  @Field(() => Int, { description: 'Points owed after a reversal took back more than the member had' })
  debt: number;

  @Field(() => Int, { description: 'Points earned but not yet available (a partner\'s return window): not in balance, never spent; see pendingLots' })
  pendingPoints: number;

  @Field()
  createdAt: Date;

  /** The tier held, by name (its details come from the coalition settings: see the earning resolver). */
  tierName: string | null;

  successfulReferrals: number;
}

@ObjectType({ description: 'Points of one lot that are pending: not yet available, never spent until availableAt (a partner\'s return window)' })
export class PendingLot {
  @Field(() => Int, { description: 'What is left of the lot (a refund inside the window takes points back from it)' })
  points: number;

  @Field({ description: 'When these points become available (UTC); the lot expires its validity period after this' })
  availableAt: Date;
}
