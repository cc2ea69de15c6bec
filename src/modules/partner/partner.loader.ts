import { DataSource } from 'typeorm';
import { isUuid } from '../../common/ids';
import { PartnerEntity } from './partner.entity';

export type PartnerRow = PartnerEntity;

/** Partners by id in one query, in the order asked (DataLoader batch function). */
export async function loadPartnersByIds(db: DataSource, ids: readonly string[]): Promise<(PartnerRow | undefined)[]> {
  const valid = ids.filter(isUuid);
  const found = valid.length ? await db.getRepository(PartnerEntity).createQueryBuilder('p').where('p.id = ANY(:ids)', { ids: valid }).getMany() : [];
  const byId = new Map(found.map((p) => [p.id, p]));
  return ids.map((id) => byId.get(id));
}
