import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { buildSchema } from 'type-graphql';
import { authChecker } from './auth';
import { guardFreeText } from './text-guard';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { CoalitionResolver } from '../modules/coalition/coalition.resolver';
import { SettlementResolver } from '../modules/settlement/settlement.resolver';
import { CharityResolver, MemberDonationResolver } from '../modules/charity/charity.resolver';
import { AffiliateFieldResolver, AffiliateResolver, PartnerCommissionResolver } from '../modules/affiliate/affiliate.resolver';
import { PartnerStatsResolver, ReportResolver } from '../modules/report/report.resolver';
import { EarningResolver, MemberEngagementResolver, PartnerEarningResolver } from '../modules/earning/earning.resolver';
import { LedgerResolver, TransactionFieldResolver } from '../modules/posting/posting.resolver';
import { LifecycleResolver, MemberPreferencesResolver } from '../modules/lifecycle/lifecycle.resolver';
import { MemberResolver } from '../modules/member/member.resolver';
import { PartnerResolver } from '../modules/partner/partner.resolver';
import { WebhookResolver } from '../modules/webhook/webhook.resolver';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { MemberRewardResolver, RewardResolver } from '../modules/reward/reward.resolver';
import { MemberVoucherResolver, VoucherResolver } from '../modules/reward/voucher.resolver';

let built: Promise<GraphQLSchema> | undefined;

/** The GraphQL schema, built once per process from the resolvers. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [AuthResolver, CoalitionResolver, PartnerResolver, MemberResolver, LedgerResolver, TransactionFieldResolver, LifecycleResolver, MemberPreferencesResolver,
      EarningResolver, MemberEngagementResolver, PartnerEarningResolver, SettlementResolver,
      ReportResolver, PartnerStatsResolver, AffiliateResolver, AffiliateFieldResolver, PartnerCommissionResolver,
      CharityResolver, MemberDonationResolver, AuditResolver, WebhookResolver, RewardResolver, MemberRewardResolver, VoucherResolver, MemberVoucherResolver],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    authChecker,
    globalMiddlewares: [guardFreeText],
    // Explicit: validation is off by default in type-graphql 2.0.
    validate: { forbidUnknownValues: false, skipMissingProperties: false, stopAtFirstError: false, validationError: { target: false, value: false } },
  });
  return built;
}

/** The SDL as committed in schema/schema.graphql: sorted, so diffs show real changes only. */
export function printAppSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
