import { Caller, Role } from '../../api/auth';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { isUuid } from '../../common/ids';
import { Channel, ConsentLevel } from './lifecycle.types';

/**
 * Entries in one updatePreferences: generous beyond the three channels, so that a repeated channel
 * is reported as INVALID_INPUT on the repeat's path rather than as an oversized list.
 */
export const MAX_PREFERENCES_PER_UPDATE = 10;

/** The channels, in the order every preference list shows them. */
export const CHANNELS: readonly Channel[] = [Channel.EMAIL, Channel.SMS, Channel.PUSH];

/**
 * A channel the member never set: transactional messages (receipts, account notices) only. No
 * marketing without the member's consent; no level below it either, or a member could not be
 * told about its own points.
 */
export const DEFAULT_CONSENT_LEVEL = ConsentLevel.TRANSACTIONAL;

export interface PreferenceChoice {
  channel: Channel;
  level: ConsentLevel;
}

export interface StoredPreference extends PreferenceChoice {
  updatedAt: Date;
}

export interface EffectivePreference extends PreferenceChoice {
  updatedAt: Date | null;
}

/** What is wrong with one updatePreferences list: nothing chosen, or a channel chosen twice. */
export function preferenceProblems(choices: readonly PreferenceChoice[]): UserError[] {
  if (choices.length === 0) {
    return [userError(ErrorCode.INVALID_INPUT, 'Give the level of at least one channel', ['input', 'preferences'])];
  }
  const seen = new Set<Channel>();
  const errors: UserError[] = [];
  choices.forEach((choice, i) => {
    if (seen.has(choice.channel)) {
      errors.push(userError(ErrorCode.INVALID_INPUT, `${choice.channel} is given more than once`, ['input', 'preferences', String(i), 'channel']));
    }
    seen.add(choice.channel);
  });
  return errors;
}

/**
 * A member's preferences on every channel, in CHANNELS order: what it chose, else the default.
 * An erased member is sent nothing: it has no address left, and should one be re-attached by
 * mistake, nothing may go out to it.
 */
export function effectivePreferences(stored: readonly StoredPreference[], erased: boolean): EffectivePreference[] {
  return CHANNELS.map((channel) => {
    const chosen = erased ? undefined : stored.find((p) => p.channel === channel);
    return chosen
      ? { channel, level: chosen.level, updatedAt: chosen.updatedAt }
      : { channel, level: erased ? ConsentLevel.NONE : DEFAULT_CONSENT_LEVEL, updatedAt: null };
  });
}

/**
 * The member and referral code an erased member keeps: 20 characters (the columns' width), never
 * a real code (those are 12 digits, or 8 of Crockford's alphabet) and not an identifier, so no
 * lookup finds it. The 56 random bits of the id's tail keep erased members apart on screen.
 */
export function erasedCode(memberId: string): string {
  return `ERASED${memberId.replace(/-/g, '').slice(-14).toUpperCase()}`;
}

/**
 * The member a lifecycle request is about. A member acts on itself (it may name its own id); the
 * operator names the member. Another member's id is simply not found (README, Auth).
 */
export function subjectMember(caller: Caller, memberId: string | null | undefined, field: string[]): Outcome<string> {
  switch (caller.role) {
    case Role.MEMBER:
      return memberId == null || memberId === caller.memberId ? ok(caller.memberId) : fail(userError(ErrorCode.NOT_FOUND, 'No such member', field));
    case Role.ADMIN:
      if (memberId == null) return fail(userError(ErrorCode.INVALID_INPUT, 'The operator must name the member', field));
      return isUuid(memberId) ? ok(memberId) : fail(userError(ErrorCode.NOT_FOUND, 'No such member', field));
    case Role.PARTNER:
    case Role.AFFILIATE:
      // The resolvers admit only members and the operator; reaching here is a bug.
      throw new Error(`subjectMember called for ${caller.role}`);
  }
}
