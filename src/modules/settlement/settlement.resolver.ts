import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection, PageArgs } from '../../common/pagination';
import { CloseSettlementPeriodInput } from './settlement.inputs';
import { closeSettlementPeriod, findRun, listRuns, runLines, runPositions, runStatementCsv, runTransfers } from './settlement.service';
import {
  CloseSettlementPeriodPayload, NetPosition, NetTransfer, SettlementLine, SettlementRun, SettlementRunConnection,
} from './settlement.types';

@Resolver(() => SettlementRun)
export class SettlementResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => CloseSettlementPeriodPayload, { description: 'Closes [periodStart, periodEnd): lines, positions and transfers; the same period returns the same run' })
  async closeSettlementPeriod(@Ctx() ctx: RequestContext, @Arg('input', () => CloseSettlementPeriodInput) input: CloseSettlementPeriodInput): Promise<CloseSettlementPeriodPayload> {
    const outcome = await closeSettlementPeriod(ctx, input);
    return outcome.ok ? { run: outcome.value, userErrors: [] } : { run: null, userErrors: outcome.errors };
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.AFFILIATE)
  @Query(() => SettlementRunConnection, { description: 'Closed runs, newest first; a partner or affiliate sees its own share of each' })
  settlementRuns(@Ctx() ctx: RequestContext, @Args(() => PageArgs) page: PageArgs): Promise<Connection<SettlementRun>> {
    return listRuns(ctx, page);
  }

  @Authorized(Role.ADMIN, Role.PARTNER, Role.AFFILIATE)
  @Query(() => SettlementRun, { nullable: true })
  settlementRun(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<SettlementRun | null> {
    return findRun(ctx, id);
  }

  @FieldResolver(() => [SettlementLine], { description: 'A partner sees the lines it pays or receives' })
  lines(@Ctx() ctx: RequestContext, @Root() run: SettlementRun): Promise<SettlementLine[]> {
    return runLines(ctx, run);
  }

  @FieldResolver(() => [NetPosition], { description: 'A partner sees its own' })
  positions(@Ctx() ctx: RequestContext, @Root() run: SettlementRun): Promise<NetPosition[]> {
    return runPositions(ctx, run);
  }

  @FieldResolver(() => [NetTransfer], { description: 'A partner sees those it pays or receives' })
  transfers(@Ctx() ctx: RequestContext, @Root() run: SettlementRun): Promise<NetTransfer[]> {
    return runTransfers(ctx, run);
  }

  @FieldResolver(() => String, { description: 'One party’s statement as CSV (header, a row per line, totals); a partner its own' })
  statementCsv(@Ctx() ctx: RequestContext, @Root() run: SettlementRun, @Arg('partyId', () => ID) partyId: string): Promise<string> {
    return runStatementCsv(ctx, run, partyId);
  }
}
