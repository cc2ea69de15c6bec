import { Caller, Role } from '../../api/auth';
import { CHANNELS, effectivePreferences, erasedCode, preferenceProblems, subjectMember } from './lifecycle.rules';
import { Channel, ConsentLevel } from './lifecycle.types';

const { EMAIL, SMS, PUSH } = Channel;
const { NONE, TRANSACTIONAL, MONTHLY, WEEKLY, ALL } = ConsentLevel;

describe('preferenceProblems: at least one channel, each at most once', () => {
  it.each<[string, [Channel, ConsentLevel][]]>([
    ['one channel', [[EMAIL, ALL]]],
    ['every channel', [[EMAIL, NONE], [SMS, WEEKLY], [PUSH, MONTHLY]]],
    ['the same level on two channels', [[SMS, TRANSACTIONAL], [PUSH, TRANSACTIONAL]]],
  ])('%s is fine', (_name, choices) => {
    expect(preferenceProblems(choices.map(([channel, level]) => ({ channel, level })))).toEqual([]);
  });

  it('an empty list is INVALID_INPUT on input.preferences', () => {
    expect(preferenceProblems([])).toEqual([{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'preferences'] }]);
  });

  it.each<[string, [Channel, ConsentLevel][], string[][]]>([
    ['a channel twice, same level', [[EMAIL, ALL], [EMAIL, ALL]], [['input', 'preferences', '1', 'channel']]],
    ['a channel twice, other levels', [[SMS, NONE], [EMAIL, ALL], [SMS, WEEKLY]], [['input', 'preferences', '2', 'channel']]],
    ['a channel three times', [[PUSH, NONE], [PUSH, ALL], [PUSH, MONTHLY]],
      [['input', 'preferences', '1', 'channel'], ['input', 'preferences', '2', 'channel']]],
  ])('%s is INVALID_INPUT on each repeat', (_name, choices, fields) => {
    const errors = preferenceProblems(choices.map(([channel, level]) => ({ channel, level })));
    expect(errors.map((e) => e.code)).toEqual(fields.map(() => 'INVALID_INPUT'));
    expect(errors.map((e) => e.field)).toEqual(fields);
  });
});

describe('effectivePreferences: every channel, chosen or default', () => {
  const at = new Date('2025-06-01T10:00:00Z');

  it('lists EMAIL, SMS, PUSH in that order, TRANSACTIONAL where nothing was chosen', () => {
    expect(effectivePreferences([], false)).toEqual([
      { channel: EMAIL, level: TRANSACTIONAL, updatedAt: null },
      { channel: SMS, level: TRANSACTIONAL, updatedAt: null },
      { channel: PUSH, level: TRANSACTIONAL, updatedAt: null },
    ]);
  });

  it('shows what the member chose, with when, whatever order it is stored in', () => {
    expect(effectivePreferences([{ channel: PUSH, level: NONE, updatedAt: at }, { channel: EMAIL, level: WEEKLY, updatedAt: at }], false)).toEqual([
      { channel: EMAIL, level: WEEKLY, updatedAt: at },
      { channel: SMS, level: TRANSACTIONAL, updatedAt: null },
      { channel: PUSH, level: NONE, updatedAt: at },
    ]);
  });

  it.each([[[]], [[{ channel: EMAIL, level: ALL, updatedAt: at }]]])('an erased member is sent nothing on any channel (stored %j)', (stored) => {
    expect(effectivePreferences(stored, true)).toEqual(CHANNELS.map((channel) => ({ channel, level: NONE, updatedAt: null })));
  });
});

describe('erasedCode: a placeholder that fits the code columns and is no real code', () => {
  it.each([
    ['0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60', 'ERASED3A1B2C3D4E5F60'],
    ['00000000-0000-7000-8000-000000000000', 'ERASED00000000000000'],
  ])('%s → %s', (id, code) => {
    expect(erasedCode(id)).toBe(code);
  });

  it('is 20 characters (member_code and referral_code are varchar(20)), neither 12 digits nor 8 Crockford characters', () => {
    const code = erasedCode('0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60');
    expect(code).toHaveLength(20);
    expect(code).not.toMatch(/^\d{12}$/);
    expect(code).not.toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
  });

  it('differs between members created in the same millisecond (it takes the random tail, not the time)', () => {
    expect(erasedCode('0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60')).not.toBe(erasedCode('0193a5b2-7c4e-7d21-8f3a-aaaaaaaaaaaa'));
  });
});

describe('subjectMember: a member acts on itself, the operator names the member', () => {
  const own = '0193a5b2-7c4e-7d21-8f3a-1b2c3d4e5f60';
  const other = '0193a5b2-7c4e-7d21-8f3a-aaaaaaaaaaaa';
  const member: Caller = { role: Role.MEMBER, memberId: own };
  const admin: Caller = { role: Role.ADMIN };
  const field = ['input', 'memberId'];

  it.each<[string, Caller, string | null | undefined, string]>([
    ['a member leaving memberId out', member, undefined, own],
    ['a member giving null', member, null, own],
    ['a member naming itself', member, own, own],
    ['the operator naming a member', admin, other, other],
  ])('%s → that member', (_name, caller, memberId, subject) => {
    expect(subjectMember(caller, memberId, field)).toEqual({ ok: true, value: subject });
  });

  it.each<[string, string, Caller, string | null | undefined]>([
    ['a member naming another member', 'NOT_FOUND', member, other],
    ['the operator naming no member', 'INVALID_INPUT', admin, undefined],
    ['the operator naming something that is no id', 'NOT_FOUND', admin, 'ann@example.com'],
  ])('%s → %s', (_name, code, caller, memberId) => {
    expect(subjectMember(caller, memberId, field)).toEqual({ ok: false, errors: [{ code, message: expect.any(String), field }] });
  });

  it('is a bug for a partner (the resolvers do not admit one)', () => {
    expect(() => subjectMember({ role: Role.PARTNER, partnerId: own }, own, field)).toThrow();
  });
});
