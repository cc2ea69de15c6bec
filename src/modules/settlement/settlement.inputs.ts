import { Field, InputType } from 'type-graphql';

@InputType()
export class CloseSettlementPeriodInput {
  @Field({ description: 'Inclusive' })
  periodStart: Date;

  @Field({ description: 'Exclusive; must have passed' })
  periodEnd: Date;
}
