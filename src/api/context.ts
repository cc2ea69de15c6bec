import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { Caller } from './caller';
import { Config } from '../config';
import { PartnerRow, loadPartnersByIds } from '../modules/partner/partner.loader';
import { loadCoalition } from '../modules/coalition/coalition.loader';
import type { Coalition } from '../modules/coalition/coalition.types';
import { loadQualifyingPoints } from '../modules/earning/earn-history.store';

/** What every resolver and service gets first: who calls, the database, and per-request loaders. */
export interface RequestContext {
  caller: Caller | undefined;
  /** Why a presented token was refused, for the UNAUTHENTICATED message. */
  authFailure?: string;
  /** The peer's address, for the anonymous callers' cost buckets. */
  clientAddress?: string;
  db: DataSource;
  config: Config;
  loaders: Loaders;
}

export interface Loaders {
  partner: DataLoader<string, PartnerRow | undefined>;
  /** The coalition settings, read at most once a request. */
  coalition: () => Promise<Coalition>;
  /** Tier qualification (trailing window) by member, for lists of members. */
  qualifyingPoints: DataLoader<string, number>;
}

export function createLoaders(db: DataSource): Loaders {
  let coalition: Promise<Coalition> | undefined;
  return {
    partner: new DataLoader((ids: readonly string[]) => loadPartnersByIds(db, ids)),
    coalition: () => (coalition ??= loadCoalition(db)),
    qualifyingPoints: new DataLoader((ids: readonly string[]) => loadQualifyingPoints(db, ids)),
  };
}
