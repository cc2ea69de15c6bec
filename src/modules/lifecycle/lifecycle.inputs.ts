import { ArrayMaxSize, IsOptional } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { MAX_PREFERENCES_PER_UPDATE } from './lifecycle.rules';
import { Channel, ConsentLevel } from './lifecycle.types';

@InputType()
export class PreferenceInput {
  @Field(() => Channel)
  channel: Channel;

  @Field(() => ConsentLevel)
  level: ConsentLevel;
}

@InputType()
export class UpdatePreferencesInput {
  @Field(() => ID, { nullable: true, description: "ADMIN only, and then required: the member whose request the operator carries out; a member may omit it or give its own id" })
  @IsOptional()
  memberId?: string | null;

  @Field(() => [PreferenceInput], { description: 'The channels to set; channels left out keep their level' })
  @ArrayMaxSize(MAX_PREFERENCES_PER_UPDATE)
  preferences: PreferenceInput[];
}

@InputType()
export class EraseMemberInput {
  @Field(() => ID, { description: 'A member erasing itself gives its own id' })
  memberId: string;
}
