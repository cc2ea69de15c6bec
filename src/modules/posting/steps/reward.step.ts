import { ErrorCode, Outcome, fail, ok, userError } from '../../../api/errors';
import { formatMinorUnits } from '../../../common/decimal';
import { uuidv7 } from '../../../common/ids';
import { ObligationKind } from '../../ledger/ledger.rules';
import type { OutboxRow, TransactionRow } from '../../ledger/ledger.store';
import { TransactionType } from '../../ledger/ledger.types';
import type { ClaimReward, LockedVoucher, VoucherRow } from '../../reward/claim.store';
import { writeClaims } from '../../reward/claim.store';
import { formatVoucherCode, newVoucherCode, refusal, valuePerPoint } from '../../reward/reward.rules';
import type { Applied, PostingStep, StepScope } from '../posting-step';
import type { PostingRequest } from '../posting.types';

const DAY_MS = 86_400_000;

/** What a partner (or anyone who is not the member or the operator) is shown of a member: the last three digits of its member code. */
export function maskedMember(memberCode: string): string {
  return `•••••••••${memberCode.slice(-3)}`;
}

const REFUSALS: Record<NonNullable<ReturnType<typeof refusal>>, (r: ClaimReward, available: number, debt: number) => { code: ErrorCode; message: string }> = {
  NOT_ELIGIBLE: () => ({ code: ErrorCode.NOT_ELIGIBLE, message: 'This reward is not open to the member now (withdrawn, outside its window, or restricted to other tiers or clubs)' }),
  OUT_OF_STOCK: (r) => ({ code: ErrorCode.OUT_OF_STOCK, message: `All ${r.stock} of this reward have been claimed` }),
  LIMIT_EXCEEDED: (r) => ({ code: ErrorCode.LIMIT_EXCEEDED, message: `A member may claim this reward at most ${r.per_member_limit} time${r.per_member_limit === 1 ? '' : 's'}` }),
  MEMBER_IN_DEBT: (_r, _a, debt) => ({ code: ErrorCode.MEMBER_IN_DEBT, message: `The member owes ${debt} points and cannot claim until they are repaid` }),
  INSUFFICIENT_POINTS: (r, available) => ({ code: ErrorCode.INSUFFICIENT_POINTS, message: `The member has ${available} points, fewer than ${r.points_price}` }),
};

/** An outbox row of this posting: the operator gets `data`; each partner in `partnerIds` its own view. */
function outbox(s: StepScope, memberId: string, type: string, data: object, partnerViews: Map<string, object>): OutboxRow {
  return {
    member_id: memberId, id: uuidv7(s.now.getTime()), type, occurred_at: s.now, partner_ids: [...partnerViews.keys()], affiliate_ids: [],
    data: JSON.stringify(data), views: JSON.stringify(Object.fromEntries([...partnerViews].map(([id, view]) => [`partner:${id}`, view]))),
  };
}

/** voucher.* payloads: the operator sees the member's id; the reward's partner the masked member (as `voucher(code)` shows it). */
function voucherEvent(s: StepScope, type: string, v: Pick<VoucherRow, 'member_id' | 'id' | 'code' | 'reward_id' | 'state' | 'expires_at'>, rewardPartnerId: string | null): OutboxRow {
  const common = { voucherId: v.id, code: formatVoucherCode(v.code), rewardId: v.reward_id, state: v.state, expiresAt: v.expires_at.toISOString() };
  const member = s.member(v.member_id)!.row;
  return outbox(s, v.member_id, type, { ...common, memberId: v.member_id, partnerId: rewardPartnerId },
    new Map(rewardPartnerId ? [[rewardPartnerId, { ...common, member: maskedMember(member.member_code) }]] : []));
}

/**
 * A claim (docs/rules.md, Rewards: claims): refused, in this order, NOT_ELIGIBLE, OUT_OF_STOCK,
 * LIMIT_EXCEEDED, MEMBER_IN_DEBT, INSUFFICIENT_POINTS (reward.rules `refusal`, on the locked
 * reward and the member's standing under its lock; nothing is written then). Otherwise a REWARD
 * transaction of −pointsPrice for the reward's partner (null: the operator) consumes lots like a
 * redemption (MemberBook.consume, kind REWARD, at value / pointsPrice a point), takes one from stock,
 * and issues a voucher (VOUCHER: code of 60 random bits, valid voucherValidityDays) or joins the
 * club (MEMBERSHIP: from the later of now and the current expiry, for the club's membershipDays).
 */
function claim(s: StepScope, r: PostingRequest & { kind: TransactionType.REWARD }): Outcome<Applied> {
  const reward = s.claims.rewards.get(r.rewardId);
  // A partner claims at its till only its own rewards; others do not exist for it.
  if (!reward || (s.options.linkPartnerId !== null && reward.partner_id !== s.options.linkPartnerId)) {
    return fail(userError(ErrorCode.NOT_FOUND, 'No such reward', ['input', 'rewardId']));
  }
  const member = s.member(r.memberId)!;
  const standing = s.claims.standings.get(r.memberId)!;
  const book = s.book(r.memberId);
  const takenKey = `claims|${r.memberId}|${reward.id}`;
  const why = refusal({
    active: reward.active, startsAt: reward.starts_at, endsAt: reward.ends_at, tiers: reward.tiers, clubs: reward.clubs, stock: reward.stock,
    claimed: reward.claimed + (s.claims.taken.get(reward.id) ?? 0), perMemberLimit: reward.per_member_limit, pointsPrice: reward.points_price,
  }, { tierName: member.tier, clubIds: standing.clubIds, balance: book.available, debt: book.debt,
    claimedByMember: (standing.claims.get(reward.id) ?? 0) + s.count(takenKey) }, s.now);
  if (why) {
    const { code, message } = REFUSALS[why](reward, book.available, book.debt);
    return fail(userError(code, message, ['input', why === 'INSUFFICIENT_POINTS' || why === 'MEMBER_IN_DEBT' ? 'memberId' : 'rewardId']));
  }
  const exponent = s.terms.coalition.currencyExponent;
  const rate = valuePerPoint(BigInt(reward.value_minor), reward.points_price, exponent);
  if (rate === undefined) throw new Error(`reward ${reward.id}: value over price is not exact to 6 decimals`);
  const tx: TransactionRow = { ...s.newTransaction(r, TransactionType.REWARD), partner_id: reward.partner_id };
  const refused = book.consume(tx.id, ObligationKind.REWARD, { partnerId: reward.partner_id }, reward.points_price, rate);
  if (refused) throw new Error(`claim refused by the ledger after the rules allowed it: ${refused}`);
  s.claims.taken.set(reward.id, (s.claims.taken.get(reward.id) ?? 0) + 1);
  s.add(takenKey, 1);
  if (reward.kind === 'VOUCHER') {
    const voucher: VoucherRow = {
      member_id: r.memberId, id: uuidv7(s.now.getTime()), code: newVoucherCode(), reward_id: reward.id, state: 'ISSUED', transaction_id: tx.id,
      issued_at: s.now, expires_at: new Date(s.now.getTime() + reward.voucher_validity_days * DAY_MS), redeemed_at: null,
    };
    s.claims.newVouchers.push(voucher);
    s.effects.events.push(voucherEvent(s, 'voucher.issued', voucher, reward.partner_id));
  } else {
    const current = standing.clubExpiry.get(reward.club_id!);
    const startsAt = current && current.getTime() > s.now.getTime() ? current : s.now;
    const expiresAt = new Date(startsAt.getTime() + reward.membership_days! * DAY_MS);
    standing.clubExpiry.set(reward.club_id!, expiresAt);
    if (!standing.clubIds.includes(reward.club_id!)) standing.clubIds.push(reward.club_id!);
    s.claims.memberships.push({ member_id: r.memberId, id: uuidv7(s.now.getTime()), club_id: reward.club_id!, reward_id: reward.id, transaction_id: tx.id, starts_at: startsAt, expires_at: expiresAt });
    // club.joined: the operator, and the partners linked to the member (a partner club: its own partner, when linked).
    const data = { memberId: r.memberId, clubId: reward.club_id, expiresAt: expiresAt.toISOString(), source: 'POINTS' };
    const receivers = standing.linkedPartnerIds.filter((p) => reward.club_partner_id === null || p === reward.club_partner_id);
    s.effects.events.push(outbox(s, r.memberId, 'club.joined', data, new Map(receivers.map((p) => [p, data]))));
  }
  const value = formatMinorUnits(BigInt(reward.value_minor), exponent);
  return ok({ transaction: s.record({ ...tx, points: -reward.points_price, description: reward.name,
    breakdown: [{ rule: 'REWARD', points: -reward.points_price, detail: `${reward.kind === 'VOUCHER' ? 'voucher' : 'club membership'}: ${reward.name} (value ${value})` }] }) });
}

/**
 * A claimed reward returned with its voucher (voidVoucher: VOIDED; the expiry job: EXPIRED): a
 * REVERSAL of the REWARD transaction that gives the points back to the lots they came from (same
 * issuer, same expiry; MemberBook.restore) and reverses its REWARD obligations, posted now. Errors:
 * NOT_FOUND (no such claim), VOUCHER_NOT_REDEEMABLE naming the state when the voucher is no longer
 * ISSUED. The item does not go back to stock (docs/rules.md, Vouchers).
 */
function giveBack(s: StepScope, r: PostingRequest & { kind: TransactionType.REVERSAL }, to: 'VOIDED' | 'EXPIRED', voucher: LockedVoucher | undefined): Outcome<Applied> {
  const original = s.original(r);
  if (!voucher || !original || original.row.type !== TransactionType.REWARD || voucher.transaction_id !== original.row.id) {
    return fail(userError(ErrorCode.NOT_FOUND, 'No such voucher', ['input', 'code']));
  }
  if (voucher.state !== 'ISSUED') return fail(userError(ErrorCode.VOUCHER_NOT_REDEEMABLE, `This voucher is ${voucher.state}`, ['input', 'code']));
  if (original.totals.count > 0) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This claim has been returned', ['input', 'code']));
  const { row, consumption } = original;
  const tx: TransactionRow = { ...s.newTransaction(r, TransactionType.REVERSAL), partner_id: row.partner_id, reverses_id: row.id };
  s.book(r.memberId).restore(tx.id, { partnerId: row.partner_id }, consumption!.movements, consumption!.obligations);
  voucher.state = to;
  s.claims.ended.push({ member_id: voucher.member_id, id: voucher.id, state: to });
  s.effects.events.push(voucherEvent(s, to === 'VOIDED' ? 'voucher.voided' : 'voucher.expired', voucher, voucher.reward_partner_id));
  return ok({ transaction: s.record({ ...tx, points: -row.points, description: to === 'VOIDED' ? 'voucher voided' : 'voucher expired',
    breakdown: [{ rule: to === 'VOIDED' ? 'VOUCHER_VOIDED' : 'VOUCHER_EXPIRED', points: -row.points, detail: `${voucher.reward_name}: points back to the lots they came from` }] }) });
}

/**
 * Rewards (docs/rules.md, Rewards, vouchers and clubs): posts claims (TransactionType.REWARD) and the
 * returns of claimed rewards with their vouchers (a REVERSAL carrying `voucher`). Needs: the rewards
 * claimed (locked after the members, with the members' standing) and the vouchers returned
 * (locked). finish writes stock taken, vouchers, memberships and ended vouchers (writeClaims).
 */
export const rewardStep: PostingStep = {
  name: 'reward',
  need(r, needs) {
    if (r.kind === TransactionType.REWARD) needs.rewards.add(r.rewardId);
    if (r.kind === TransactionType.REVERSAL && r.voucher) needs.vouchers.push({ memberId: r.memberId, voucherId: r.voucher.id });
  },
  post(s, r) {
    if (r.kind === TransactionType.REWARD) return { outcome: claim(s, r) };
    if (r.kind === TransactionType.REVERSAL && r.voucher) return { outcome: giveBack(s, r, r.voucher.to, s.claims.vouchers.get(r.voucher.id)) };
    return undefined;
  },
  async finish(s, q) {
    if (!s.options.dryRun) await writeClaims(q, s.claims);
  },
};
