import { IsOptional, MaxLength } from 'class-validator';
import { ArgsType, Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../../api/auth';
import { ConnectionType, PageArgs } from '../../common/pagination';

@ObjectType({ description: 'Who made a change' })
export class AuditActor {
  @Field(() => Role)
  role: Role;

  @Field(() => ID, { nullable: true, description: 'The partner, affiliate or member; null for the operator' })
  id: string | null;
}

@ObjectType({ description: 'One change of configuration or access, as the audit log recorded it' })
export class AuditEntry {
  @Field(() => ID)
  id: string;

  @Field()
  at: Date;

  @Field(() => AuditActor)
  actor: AuditActor;

  @Field({ description: 'What was done, e.g. partner.created, token.issued' })
  action: string;

  @Field({ description: 'What the change is about, e.g. PARTNER, COALITION, MEMBER' })
  subjectType: string;

  @Field(() => ID, { nullable: true, description: 'Its id; null for the coalition' })
  subjectId: string | null;

  @Field(() => String, { description: 'The input of the change as JSON, with secrets and tokens removed and e-mails and phones masked' })
  input: string;
}

export const AuditEntryConnection = ConnectionType(AuditEntry, 'AuditEntry');

@ArgsType()
export class AuditLogArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only entries of this action, e.g. partner.earnRuleUpdated' })
  @IsOptional()
  @MaxLength(100)
  action?: string;

  @Field(() => ID, { nullable: true, description: 'Only entries about this subject' })
  @IsOptional()
  @MaxLength(100)
  subjectId?: string;
}
