import { ErrorCode, Outcome, fail, ok, userError } from '../../../api/errors';
import { uuidv7 } from '../../../common/ids';
import { autoDonationPoints, donationValueMinor, matchFor, minimumDonationPoints } from '../../charity/charity.rules';
import { lockCampaigns } from '../../charity/donation.store';
import { receiptNumber } from '../../charity/receipt';
import type { DonationRow, TransactionRow } from '../../ledger/ledger.store';
import { TransactionType } from '../../ledger/ledger.types';
import { isPending } from '../../ledger/ledger.rules';
import type { Applied, PostingStep, StepScope } from '../posting-step';
import { SYSTEM_CALLER } from './referral.step';

/**
 * A donation of `points` to a cause (docs/rules.md, Charity), as its own DONATION transaction with a
 * receipt; the value is points × donationValuePerPoint rounded down to minor units. Matches are
 * added in `finish`. Errors: MEMBER_IN_DEBT, INSUFFICIENT_POINTS.
 */
export function donate(s: StepScope, memberId: string, tx: TransactionRow, causeId: string, points: number, automatic: boolean, fromLotId?: string): Outcome<Applied> {
  const rate = s.terms.coalition.donationValuePerPoint;
  const exponent = s.terms.coalition.currencyExponent;
  const book = s.book(memberId);
  const refused = book.donate(tx.id, causeId, points, rate, exponent, fromLotId);
  if (refused === 'MEMBER_IN_DEBT') return fail(userError(ErrorCode.MEMBER_IN_DEBT, `The member owes ${book.debt} points and cannot donate until they are repaid`, ['input', 'points']));
  if (refused === 'INSUFFICIENT_POINTS') return fail(userError(ErrorCode.INSUFFICIENT_POINTS, `The member has ${book.available} points, fewer than ${points}`, ['input', 'points']));
  const id = uuidv7(s.now.getTime());
  // Matches are added once every request is applied (finish): only causes that got a donation lock their campaigns.
  const donation: DonationRow = {
    member_id: memberId, id, transaction_id: tx.id, cause_id: causeId, points, value_minor: donationValueMinor(points, rate, exponent).toString(),
    matched_points: 0, matched_value_minor: '0', receipt_number: receiptNumber(id), automatic, created_at: s.now,
  };
  s.effects.donations.push(donation);
  return ok({ transaction: s.record({ ...tx, points: -points, description: automatic ? 'automatic donation' : null,
    breakdown: [{ rule: 'DONATION', points: -points, detail: `to cause ${s.causes.get(causeId)?.name ?? causeId}` }] }), donation });
}

/**
 * A member's automatic donation on a purchase: autoDonationPoints (the member's percent of the
 * points, rounded down, at most what the purchase's lot holds) to the member's cause, from that lot,
 * as a DONATION of the hub keyed `auto-donation:<purchase id>`. Skipped below minimumDonationPoints,
 * while the member is in debt, for an inactive cause, on a quote, and when the purchase's points
 * are pending (a return window: pending points are never spent, and a donation is final). Needs: the cause. Never fails.
 */
export const autoDonationStep: PostingStep = {
  name: 'auto-donation',
  need(r, needs, view) {
    const auto = view.member(r.memberId);
    if (r.kind === TransactionType.PURCHASE && auto?.auto_donation_percent && auto.auto_donation_cause_id) needs.causes.add(auto.auto_donation_cause_id);
  },
  purchased(s, { member, row: purchase, lot, earned }) {
    const percent = member.row.auto_donation_percent;
    const causeId = member.row.auto_donation_cause_id;
    if (!percent || !causeId || !lot || s.options.dryRun || !s.causes.get(causeId)?.active || isPending(lot, s.now)) return;
    const points = autoDonationPoints(earned.points, percent, lot.remaining);
    // Below the smallest donation worth a minor unit, the automatic donation is skipped.
    const minimum = minimumDonationPoints(s.terms.coalition.donationValuePerPoint, s.terms.coalition.currencyExponent);
    if (points <= 0 || points < minimum || s.book(member.row.id).debt > 0) return;
    const tx = s.newTransaction({ memberId: member.row.id, idempotencyKey: `auto-donation:${purchase.id}`, requestHash: purchase.id, partnerId: null },
      TransactionType.DONATION, SYSTEM_CALLER);
    donate(s, member.row.id, tx, causeId, points, true, lot.id);
  },
};

/**
 * Donations asked for (donatePoints) and the partners' matching of every donation of the batch.
 * post: NOT_FOUND (cause), INVALID_INPUT (inactive cause, fewer points than minimumDonationPoints),
 * then donate's errors. finish: the campaigns of the causes that received a donation are locked
 * (after the members, in id order) and each donation, in order, takes floor(points × ratio) from
 * what is left of each cap; matches never touch a member's balance, so they come last.
 */
export const donationStep: PostingStep = {
  name: 'donation',
  need(r, needs) {
    if (r.kind === TransactionType.DONATION) needs.causes.add(r.causeId);
  },
  post(s, r) {
    if (r.kind !== TransactionType.DONATION) return undefined;
    const cause = s.causes.get(r.causeId);
    if (!cause) return { outcome: fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId'])) };
    if (!cause.active) return { outcome: fail(userError(ErrorCode.INVALID_INPUT, 'This cause no longer takes donations', ['input', 'causeId'])) };
    const minimum = minimumDonationPoints(s.terms.coalition.donationValuePerPoint, s.terms.coalition.currencyExponent);
    if (r.points < minimum) return { outcome: fail(userError(ErrorCode.INVALID_INPUT, `A donation of ${r.points} points is worth nothing; the smallest is ${minimum} points`, ['input', 'points'])) };
    return { outcome: donate(s, r.memberId, s.newTransaction(r, TransactionType.DONATION), r.causeId, r.points, false) };
  },
  async finish(s, q) {
    const donations = s.effects.donations;
    if (!donations.length) return;
    const causes = [...new Set(donations.map((d) => d.cause_id))].sort();
    s.effects.campaigns = (await lockCampaigns(q, causes, s.now)).map((c) => ({ ...c, lockedAt: c.matched_points }));
    const rate = s.terms.coalition.donationValuePerPoint;
    for (const donation of donations) {
      for (const campaign of s.effects.campaigns.filter((c) => c.cause_id === donation.cause_id)) {
        const match = matchFor(donation.points, campaign.ratio, campaign.cap_points - campaign.matched_points);
        if (match === 0) continue;
        campaign.matched_points += match;
        donation.matched_points += match;
        const value = s.book(donation.member_id).match(donation.transaction_id, campaign.partner_id, donation.cause_id, match, rate, s.terms.coalition.currencyExponent);
        donation.matched_value_minor = (BigInt(donation.matched_value_minor) + value).toString();
      }
    }
  },
};
