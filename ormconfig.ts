import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { migrations } from './migrations';
import { CoalitionEntity } from './src/modules/coalition/coalition.entity';
import { MemberPreferenceEntity } from './src/modules/lifecycle/lifecycle.entity';
import { PromotionEntity } from './src/modules/earning/promotion.entity';
import { AffiliateEntity, CommissionEntity } from './src/modules/affiliate/affiliate.entity';
import { CauseEntity, DonationEntity, MatchingCampaignEntity } from './src/modules/charity/charity.entity';
import { SettlementLineEntity, SettlementPositionEntity, SettlementRunEntity, SettlementTransferEntity } from './src/modules/settlement/settlement.entity';
import { LedgerEntryEntity, LedgerTransactionEntity, LotEntity, LotMovementEntity, MemberDebtEntity, ObligationEntity } from './src/modules/ledger/ledger.entity';
import { MemberEntity, MemberIdentifierEntity, MemberPartnerLinkEntity } from './src/modules/member/member.entity';
import { PartnerEntity } from './src/modules/partner/partner.entity';
import { EventEntity, EventPendingEntity, WebhookAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity } from './src/modules/webhook/webhook.entity';
import { AuditEntryEntity } from './src/modules/audit/audit.entity';
import { RewardEntity, VoucherCodeEntity, VoucherEntity } from './src/modules/reward/reward.entity';
import { ClubEntity, ClubMembershipEntity } from './src/modules/reward/club.entity';

export const entities = [CoalitionEntity, PartnerEntity, MemberEntity, MemberIdentifierEntity, MemberPartnerLinkEntity,
  LedgerTransactionEntity, LedgerEntryEntity, LotEntity, LotMovementEntity, MemberDebtEntity, ObligationEntity, MemberPreferenceEntity,
  PromotionEntity, SettlementRunEntity, SettlementLineEntity, SettlementPositionEntity, SettlementTransferEntity,
  AffiliateEntity, CommissionEntity, CauseEntity, MatchingCampaignEntity, DonationEntity, AuditEntryEntity,
  EventEntity, EventPendingEntity, WebhookEndpointEntity, WebhookDeliveryEntity, WebhookAttemptEntity,
  RewardEntity, VoucherEntity, VoucherCodeEntity, ClubEntity, ClubMembershipEntity];

/** The one DataSource shape the app, the CLI and the tests use. The schema is the migrations': never synchronize. */
export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    poolSize,
    extra: { max: poolSize, idleTimeoutMillis: 30_000 },
    logging: ['error'],
  });
}

/**
 * For the TypeORM CLI (`typeorm -d dist/ormconfig.js …`), which needs DATABASE_URL. The npm scripts
 * `migration:run` and `migration:generate` start the embedded PostgreSQL when it is unset.
 */
export default createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
