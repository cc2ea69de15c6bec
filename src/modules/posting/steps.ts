import type { PostingStep } from './posting-step';
import { commissionStep } from './steps/commission.step';
import { autoDonationStep, donationStep } from './steps/donation.step';
import { earnStep } from './steps/earn.step';
import { referralStep } from './steps/referral.step';
import { rewardStep } from './steps/reward.step';
import { tierStep } from './steps/tier.step';

/**
 * The posting steps, in the order the runner applies them to each request. A purchase is posted by
 * earn, then commission, auto-donation, tier and referral act on it in this order (the order is
 * behaviour: the automatic donation comes from the purchase's lot before tiers move; the referral
 * bonuses are posted after the purchase). A refund runs commission, tier, then referral (a full refund
 * inside the return window cancels the referral it rewarded). Donations are posted
 * by donation, whose finish matches the batch's donations. Reward claims, and the returns of claimed
 * rewards with their vouchers, are posted by reward, whose finish writes stock, vouchers and memberships. Pure-ledger kinds (bonus, redemption,
 * reversal, expiry) are the runner's own. Add a feature by adding its step here.
 */
export const POSTING_STEPS: readonly PostingStep[] = [earnStep, commissionStep, autoDonationStep, tierStep, referralStep, donationStep, rewardStep];
