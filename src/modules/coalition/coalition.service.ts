import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, fail, ok, userError } from '../../api/errors';
import { currencyExponent } from '../../common/currency';
import { Dec, formatRate } from '../../common/decimal';
import { toCoalition } from './coalition.loader';
import { inTransaction, rows } from '../../db/transaction';
import { audit } from '../audit/audit.service';
import { CoalitionEntity } from './coalition.entity';
import { ConfigureCoalitionInput } from './coalition.inputs';
import { validateCoalitionSettings } from './coalition.rules';
import { Coalition } from './coalition.types';

/** The coalition settings (read once a request). */
export function getCoalition(ctx: RequestContext): Promise<Coalition> {
  return ctx.loaders.coalition();
}

export async function configureCoalition(ctx: RequestContext, input: ConfigureCoalitionInput): Promise<Outcome<Coalition>> {
  const errors = validateCoalitionSettings(input);
  if (errors.length) return fail(...errors);
  return inTransaction(ctx.db, async (q) => {
    const [current] = await rows<{ currency: string }>(q, 'SELECT currency FROM coalition WHERE id = 1 FOR UPDATE');
    if (current!.currency !== input.currency) {
      // Hold off postings while checking: one in flight could commit amounts in the old minor units.
      await q.query('LOCK TABLE ledger_transaction IN SHARE MODE');
      const [posted] = await rows(q, 'SELECT 1 FROM ledger_transaction LIMIT 1');
      if (posted) return fail(userError(ErrorCode.INVALID_INPUT, 'The currency cannot change once points have been posted', ['input', 'currency']));
    }
    const tiers = [...(input.tiers ?? [])]
      .sort((a, b) => a.qualifyingPoints - b.qualifyingPoints)
      .map((t) => ({ name: t.name, qualifyingPoints: t.qualifyingPoints, earnMultiplier: formatRate(t.earnMultiplier) }));
    const referral = input.referral
      ? { refereeBonus: input.referral.refereeBonus, referrerBonus: input.referral.referrerBonus,
          milestones: [...input.referral.milestones].sort((a, b) => a.referrals - b.referrals).map((m) => ({ referrals: m.referrals, bonus: m.bonus })),
          minimumPurchase: new Dec(input.referral.minimumPurchase ?? '0').toFixed() }
      : null;
    await q.manager.getRepository(CoalitionEntity).update({ id: 1 }, {
      name: input.name,
      currency: input.currency,
      currencyExponent: currencyExponent(input.currency),
      donationValuePerPoint: input.donationValuePerPoint,
      tiers,
      referral,
      // Omitted: unchanged, so re-sending older settings does not reset it.
      ...(input.maxBackdateDays != null ? { maxBackdateDays: input.maxBackdateDays } : {}),
      ...(input.expiryReminderDays != null ? { expiryReminderDays: input.expiryReminderDays } : {}),
      ...(input.settlementModel != null ? { settlementModel: input.settlementModel } : {}),
      updatedAt: new Date(),
    });
    await audit(ctx, q, { action: 'coalition.configured', subjectType: 'COALITION', subjectId: null, input });
    return ok(toCoalition(await q.manager.getRepository(CoalitionEntity).findOneByOrFail({ id: 1 })));
  });
}
