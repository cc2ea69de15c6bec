import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection } from '../../common/pagination';
import { Member } from '../member/member.types';
import { ClaimRewardInput, RedeemVoucherInput, VoidVoucherInput, VouchersArgs } from './reward.inputs';
import { ClaimRewardPayload, RedeemVoucherPayload, VoidVoucherPayload, Voucher, VoucherConnection } from './reward.types';
import { claimReward, findVoucher, memberVouchers, redeemVoucher, voidVoucher } from './voucher.service';

@Resolver(() => Voucher)
export class VoucherResolver {
  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Mutation(() => ClaimRewardPayload, { description: 'The member claims a reward; a partner at its till for a linked member (its own rewards); the operator for any member. Idempotent by key' })
  async claimReward(@Ctx() ctx: RequestContext, @Arg('input', () => ClaimRewardInput) input: ClaimRewardInput): Promise<ClaimRewardPayload> {
    const outcome = await claimReward(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { voucher: null, membership: null, transaction: null, member: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Query(() => Voucher, { nullable: true, description: 'The reward’s partner looks a code up; another partner gets null. The operator: any voucher; a member: its own' })
  voucher(@Ctx() ctx: RequestContext, @Arg('code', () => String) code: string): Promise<Voucher | null> {
    return findVoucher(ctx, code);
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => RedeemVoucherPayload, { description: 'The reward’s partner redeems a voucher at its till, once (the operator: its own rewards’ vouchers)' })
  async redeemVoucher(@Ctx() ctx: RequestContext, @Arg('input', () => RedeemVoucherInput) input: RedeemVoucherInput): Promise<RedeemVoucherPayload> {
    const outcome = await redeemVoucher(ctx, input);
    return outcome.ok ? { voucher: outcome.value, userErrors: [] } : { voucher: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.MEMBER)
  @Mutation(() => VoidVoucherPayload, { description: 'Voids an unused voucher (its member, the reward’s partner, the operator): the points go back to the lots they came from. Idempotent by key' })
  async voidVoucher(@Ctx() ctx: RequestContext, @Arg('input', () => VoidVoucherInput) input: VoidVoucherInput): Promise<VoidVoucherPayload> {
    const outcome = await voidVoucher(ctx, input);
    return outcome.ok ? { ...outcome.value, userErrors: [] } : { voucher: null, transaction: null, member: null, userErrors: outcome.errors };
  }
}

@Resolver(() => Member)
export class MemberVoucherResolver {
  @FieldResolver(() => VoucherConnection, { description: 'Newest first; a partner sees only the vouchers of its own rewards' })
  vouchers(@Ctx() ctx: RequestContext, @Root() member: Member, @Args(() => VouchersArgs) args: VouchersArgs): Promise<Connection<Voucher>> {
    return memberVouchers(ctx, member, args);
  }
}
