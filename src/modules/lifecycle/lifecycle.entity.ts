import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import type { Channel, ConsentLevel } from './lifecycle.types';

/**
 * A member's choice for one channel. Only channels the member has set have a row; the others read
 * as the default (lifecycle.rules.ts). Keyed by member first, stored with the member's other rows.
 */
@Entity('member_preference')
@Check('CHK_member_preference_channel', `"channel" IN ('EMAIL', 'SMS', 'PUSH')`)
@Check('CHK_member_preference_level', `"level" IN ('NONE', 'TRANSACTIONAL', 'MONTHLY', 'WEEKLY', 'ALL')`)
export class MemberPreferenceEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  channel: Channel;

  @Column({ type: 'varchar', length: 20 })
  level: ConsentLevel;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
