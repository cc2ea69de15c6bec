import { Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { badRequest } from '../../api/errors';
import { Partner } from '../partner/partner.types';
import { liabilities, partnerStats } from './report.service';
import { Liability, OperatorEconomics, PartnerStats } from './report.types';
import { getOperatorEconomics } from './operator-economics.service';

@ArgsType()
class PeriodArgs {
  @Field({ description: 'Inclusive' })
  periodStart: Date;

  @Field({ description: 'Exclusive' })
  periodEnd: Date;
}

function checkPeriod({ periodStart, periodEnd }: PeriodArgs): void {
  if (periodEnd.getTime() <= periodStart.getTime()) throw badRequest('periodEnd must be after periodStart');
  if (periodEnd.getTime() - periodStart.getTime() > 3660 * 86_400_000) throw badRequest('A report covers at most ten years');
}

@Resolver()
export class ReportResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [PartnerStats], { description: "Every partner's figures for the period (the operator's view)" })
  partnerStats(@Ctx() ctx: RequestContext, @Args(() => PeriodArgs) period: PeriodArgs): Promise<PartnerStats[]> {
    checkPeriod(period);
    return partnerStats(ctx, period.periodStart, period.periodEnd);
  }

  @Authorized(Role.ADMIN)
  @Query(() => OperatorEconomics, { description: "The operator's revenue, costs, breakage, margin and liability for the period, in either settlement model" })
  operatorEconomics(@Ctx() ctx: RequestContext, @Args(() => PeriodArgs) period: PeriodArgs): Promise<OperatorEconomics> {
    checkPeriod(period);
    return getOperatorEconomics(ctx, period.periodStart, period.periodEnd);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [Liability], { description: 'Outstanding liability by issuer: unexpired points members hold, and their value' })
  liabilities(@Ctx() ctx: RequestContext): Promise<Liability[]> {
    return liabilities(ctx);
  }
}

@Resolver(() => Partner)
export class PartnerStatsResolver {
  @FieldResolver(() => PartnerStats, { nullable: true, description: "The partner's figures for the period (the partner itself and the operator)" })
  async stats(@Ctx() ctx: RequestContext, @Root() partner: Partner, @Args(() => PeriodArgs) period: PeriodArgs): Promise<PartnerStats | null> {
    checkPeriod(period);
    const [found] = await partnerStats(ctx, period.periodStart, period.periodEnd, partner.id);
    return found ?? null;
  }
}
