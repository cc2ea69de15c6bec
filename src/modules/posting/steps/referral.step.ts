import { uuidv7 } from '../../../common/ids';
import { milestoneBonus, qualifiesForReferral } from '../../earning/referral.rules';
import { TransactionType } from '../../ledger/ledger.types';
import type { PostingStep } from '../posting-step';

/** The caller recorded on postings the hub makes itself (referral bonuses, expiry). */
export const SYSTEM_CALLER = 'system';

/**
 * Referrals (docs/rules.md, Referrals): a referred member's first qualifying purchase anywhere
 * (qualifiesForReferral) rewards the referral once — the referee's bonus, the referrer's bonus and
 * any milestone, each a REFERRAL transaction of the hub with a lot of the hub's validity; a bonus
 * that would carry a balance past MAX_INT32 is skipped. Purchases that do not qualify leave the
 * referral open. Needs: the referrer locked with the batch (the runner locks terms.referrers).
 * Never fails; nothing on a quote.
 */
export const referralStep: PostingStep = {
  name: 'referral',
  purchased(s, { request: r, member, row, earned }) {
    if (s.options.dryRun || !qualifiesForReferral(s.terms.coalition.referral, r.amount, earned.points)) return;
    const referrerId = s.terms.referrers.get(r.memberId);
    if (!referrerId || member.referralRewardedAt) return;
    const referrer = s.member(referrerId);
    if (!referrer) return;
    member.referralRewardedAt = s.now;
    referrer.successfulReferrals += 1;
    const settings = s.terms.coalition.referral;
    if (!settings) return;
    const grant = (to: string, points: number, key: string, detail: string) => {
      if (points <= 0 || s.overflows(to, points)) return;
      const tx = s.newTransaction({ memberId: to, idempotencyKey: `referral:${row.id}:${key}`, requestHash: row.id, partnerId: null },
        TransactionType.REFERRAL, SYSTEM_CALLER);
      s.book(to).credit(tx.id, uuidv7(s.now.getTime()), { partnerId: null }, points, s.expiry(null), s.now);
      s.record({ ...tx, points, description: detail, breakdown: [{ rule: key.toUpperCase(), points, detail }] });
    };
    grant(r.memberId, settings.refereeBonus, 'referee', 'welcome bonus for joining through a referral');
    grant(referrerId, settings.referrerBonus, 'referrer', `referral bonus: member ${r.memberId} made a first purchase`);
    const milestone = milestoneBonus(settings, referrer.successfulReferrals);
    grant(referrerId, milestone, 'milestone', `milestone bonus: ${referrer.successfulReferrals} successful referrals`);
  },
};
