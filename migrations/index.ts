import { LedgerCore1763800000000 } from './1763800000000-LedgerCore';
import { MemberLifecycle1763900000000 } from './1763900000000-MemberLifecycle';
import { EarnEngine1764000000000 } from './1764000000000-EarnEngine';
import { Settlement1764100000000 } from './1764100000000-Settlement';
import { Affiliates1764200000000 } from './1764200000000-Affiliates';
import { Charity1764300000000 } from './1764300000000-Charity';
import { IdempotencyKey2551764400000000 } from './1764400000000-IdempotencyKey255';
import { EarningIntegrity1764410000000 } from './1764410000000-EarningIntegrity';
import { Identity1764420000000 } from './1764420000000-Identity';
import { DonationValues1764430000000 } from './1764430000000-DonationValues';
import { AuditLog1764440000000 } from './1764440000000-AuditLog';
import { Webhooks1764450000000 } from './1764450000000-Webhooks';
import { RewardsCatalog1764460000000 } from './1764460000000-RewardsCatalog';
import { EventReminders1764480000000 } from './1764480000000-EventReminders';
import { PendingPoints1764510000000 } from './1764510000000-PendingPoints';
import { SettlementModels1764520000000 } from './1764520000000-SettlementModels';
import { TermsVersion1764540000000 } from './1764540000000-TermsVersion';
import { DeliveryBodyFromEvent1764550000000 } from './1764550000000-DeliveryBodyFromEvent';
import { FirstAttemptInDelivery1764560000000 } from './1764560000000-FirstAttemptInDelivery';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and the tests run the same ones. */
export const migrations = [
  LedgerCore1763800000000,
  MemberLifecycle1763900000000,
  EarnEngine1764000000000,
  Settlement1764100000000,
  Affiliates1764200000000,
  Charity1764300000000,
  IdempotencyKey2551764400000000,
  EarningIntegrity1764410000000,
  Identity1764420000000,
  DonationValues1764430000000,
  AuditLog1764440000000,
  Webhooks1764450000000,
  RewardsCatalog1764460000000,
  EventReminders1764480000000,
  PendingPoints1764510000000,
  SettlementModels1764520000000,
  TermsVersion1764540000000,
  DeliveryBodyFromEvent1764550000000,
  FirstAttemptInDelivery1764560000000,
];
