import { Args, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { Connection } from '../../common/pagination';
import { listAuditLog } from './audit.service';
import { AuditEntry, AuditEntryConnection, AuditLogArgs } from './audit.types';

@Resolver(() => AuditEntry)
export class AuditResolver {
  @Authorized(Role.ADMIN, Role.PARTNER)
  @Query(() => AuditEntryConnection, { description: 'Changes of configuration and access, newest first: the operator all, a partner its own' })
  auditLog(@Ctx() ctx: RequestContext, @Args(() => AuditLogArgs) args: AuditLogArgs): Promise<Connection<AuditEntry>> {
    return listAuditLog(ctx, args);
  }
}
