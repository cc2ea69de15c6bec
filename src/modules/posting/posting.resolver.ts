import { ArrayMaxSize } from 'class-validator';
import { Arg, ArgsType, Args, Authorized, Ctx, Field, FieldResolver, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Outcome, UserError } from '../../api/errors';
import { Member } from '../member/member.types';
import { PartnerRef } from '../partner/partner.types';
import { checkLedger } from '../ledger/ledger-query.service';
import { AwardBonusInput, RecordPurchaseInput, RedeemPointsInput, ReverseTransactionInput } from '../ledger/ledger.inputs';
import { MAX_BATCH_SIZE, Posted, awardBonus, recordPurchases, redeemPoints, reverseTransaction } from './posting.service';
import { LedgerCheck, Transaction } from '../ledger/ledger.types';

interface PostingPayload {
  transaction: Transaction | null;
  member: Member | null;
  userErrors: UserError[];
}

/** Each posting mutation has its own payload type (docs/api.md names), all of this one shape. */
function postingPayloadType(name: string) {
  @ObjectType(name)
  class Payload implements PostingPayload {
    @Field(() => Transaction, { nullable: true })
    transaction: Transaction | null;

    @Field(() => Member, { nullable: true })
    member: Member | null;

    @Field(() => [UserError])
    userErrors: UserError[];
  }
  return Payload;
}

const RecordPurchasePayload = postingPayloadType('RecordPurchasePayload');
const RedeemPointsPayload = postingPayloadType('RedeemPointsPayload');
const ReverseTransactionPayload = postingPayloadType('ReverseTransactionPayload');
const AwardBonusPayload = postingPayloadType('AwardBonusPayload');

function payload(outcome: Outcome<Posted>): PostingPayload {
  return outcome.ok ? { ...outcome.value, userErrors: [] } : { transaction: null, member: null, userErrors: outcome.errors };
}

@ArgsType()
class RecordPurchasesArgs {
  @Field(() => [RecordPurchaseInput])
  @ArrayMaxSize(MAX_BATCH_SIZE, { message: `recordPurchases takes at most ${MAX_BATCH_SIZE} purchases a request` })
  inputs: RecordPurchaseInput[];
}

@Resolver()
export class LedgerResolver {
  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => RecordPurchasePayload, { description: 'Records a purchase and posts the points it earns' })
  async recordPurchase(@Ctx() ctx: RequestContext, @Arg('input', () => RecordPurchaseInput) input: RecordPurchaseInput): Promise<PostingPayload> {
    const [outcome] = await recordPurchases(ctx, [input], false);
    return payload(outcome!);
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => [RecordPurchasePayload], { description: `Up to ${MAX_BATCH_SIZE} purchases, each judged on its own, posted in one database transaction` })
  async recordPurchases(@Ctx() ctx: RequestContext, @Args(() => RecordPurchasesArgs) { inputs }: RecordPurchasesArgs): Promise<PostingPayload[]> {
    return (await recordPurchases(ctx, inputs, true)).map(payload);
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => RedeemPointsPayload)
  async redeemPoints(@Ctx() ctx: RequestContext, @Arg('input', () => RedeemPointsInput) input: RedeemPointsInput): Promise<PostingPayload> {
    return payload(await redeemPoints(ctx, input));
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => ReverseTransactionPayload, { description: 'Refunds a purchase (whole or in part), returns a redemption, or takes back a bonus' })
  async reverseTransaction(@Ctx() ctx: RequestContext, @Arg('input', () => ReverseTransactionInput) input: ReverseTransactionInput): Promise<PostingPayload> {
    return payload(await reverseTransaction(ctx, input));
  }

  @Authorized(Role.PARTNER, Role.ADMIN)
  @Mutation(() => AwardBonusPayload, { description: 'Awards points for an action; the operator may award as the coalition (no partnerId)' })
  async awardBonus(@Ctx() ctx: RequestContext, @Arg('input', () => AwardBonusInput) input: AwardBonusInput): Promise<PostingPayload> {
    return payload(await awardBonus(ctx, input));
  }

  @Authorized(Role.ADMIN)
  @Query(() => LedgerCheck, { description: 'Verifies the ledger invariants' })
  async ledgerCheck(@Ctx() ctx: RequestContext): Promise<LedgerCheck> {
    const violations = await checkLedger(ctx);
    return { ok: violations.length === 0, violations };
  }
}

@Resolver(() => Transaction)
export class TransactionFieldResolver {
  @FieldResolver(() => PartnerRef, { nullable: true, description: 'The partner that posted it' })
  async partner(@Ctx() ctx: RequestContext, @Root() transaction: Transaction): Promise<PartnerRef | null> {
    if (!transaction.partnerId) return null;
    const row = await ctx.loaders.partner.load(transaction.partnerId);
    return row ? { id: row.id, code: row.code, name: row.name } : null;
  }
}
