import { TIER_WINDOW_DAYS, nextTier } from '../../earning/tier.rules';
import { TransactionType } from '../../ledger/ledger.types';
import type { PostingStep } from '../posting-step';

const DAY_MS = 86_400_000;

/**
 * Tiers (docs/rules.md, Tiers): qualifying points over the window (history plus this batch, keyed
 * `qualifying|member`) decide the member's tier. A purchase's points count at once (upgrades apply
 * to the next purchase); a refund of a purchase posted within the window lowers them at once.
 * Needs: the member's qualifying points, when the coalition has tiers. Never fails.
 */
export const tierStep: PostingStep = {
  name: 'tier',
  need(r, needs, view) {
    if (!view.terms.coalition.tiers.length) return;
    // A refund re-evaluates the tier at once (docs/rules.md, Tiers).
    if (r.kind === TransactionType.PURCHASE || (r.kind === TransactionType.REVERSAL && view.original(r)?.row.type === TransactionType.PURCHASE)) needs.history.qualifying.push(r.memberId);
  },
  purchased(s, { request: r, member, earned }) {
    const tiers = s.terms.coalition.tiers;
    if (!tiers.length) return;
    // Upgrades apply at once: this purchase's points count for the next one.
    const key = `qualifying|${r.memberId}`;
    const qualifying = s.history.qualifyingPoints(r.memberId) + s.count(key) + earned.points;
    s.add(key, earned.points);
    member.tier = nextTier(member.tier, qualifying, tiers, false);
  },
  refunded(s, { request: r, original, points }) {
    const tiers = s.terms.coalition.tiers;
    const member = s.member(r.memberId)!;
    if (!tiers.length || s.options.dryRun) return;
    // A purchase posted more than the window ago no longer counts, nor its refund.
    if (original.row.posted_at.getTime() <= s.now.getTime() - TIER_WINDOW_DAYS * DAY_MS) return;
    const key = `qualifying|${r.memberId}`;
    s.add(key, -points);
    member.tier = nextTier(member.tier, s.history.qualifyingPoints(r.memberId) + s.count(key), tiers, true);
  },
};
