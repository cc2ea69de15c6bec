import { REDACTED, maskEmail, maskPhone, redactInput } from './audit.rules';

describe('redactInput', () => {
  it.each<[string, unknown, unknown]>([
    ['a token is replaced, whatever it is called', { token: 'abc', accessToken: 'x', webhookSecret: 's', password: 'p', apiKey: 'k' },
      { token: REDACTED, accessToken: REDACTED, webhookSecret: REDACTED, password: REDACTED, apiKey: REDACTED }],
    ['a JWT under any key is replaced', { note: 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiQURNSU4ifQ.sig-_1' }, { note: REDACTED }],
    ['an e-mail by key: jane.doe@example.com → j***@e***.com', { email: 'jane.doe@example.com' }, { email: 'j***@e***.com' }],
    ['an e-mail by shape under another key', { contact: 'bob@shop.co.uk' }, { contact: 'b***@s***.uk' }],
    ['a phone by key keeps its last two digits', { phone: '+49 170 1234567' }, { phone: '***67' }],
    ['an international number by shape', { contact: '+441234567890' }, { contact: '***90' }],
    ['amounts and rates stay as they are', { amount: '1234567.89', pointsPerUnit: '1.5', minSpend: '10' }, { amount: '1234567.89', pointsPerUnit: '1.5', minSpend: '10' }],
    ['a birth date and an external ref are dropped', { birthDate: '1990-01-02', externalRef: 'CUST-1' }, { birthDate: REDACTED, externalRef: REDACTED }],
    ['identifiers are masked by their kind', { identifiers: [{ kind: 'EMAIL', value: 'ann@example.com' }, { kind: 'PHONE', value: '4915112345678' }, { kind: 'EXTERNAL_REF', value: 'p:1' }, { kind: 'MEMBER_CODE', value: '123456789012' }] },
      { identifiers: [{ kind: 'EMAIL', value: 'a***@e***.com' }, { kind: 'PHONE', value: '***78' }, { kind: 'EXTERNAL_REF', value: REDACTED }, { kind: 'MEMBER_CODE', value: '123456789012' }] }],
    ['dates become ISO text, bigints text, undefined is left out', { at: new Date('2026-01-02T03:04:05.000Z'), n: 12n, gone: undefined, none: null },
      { at: '2026-01-02T03:04:05.000Z', n: '12', none: null }],
    ['nested objects and arrays are walked', { earnRule: { categoryMultipliers: [{ category: 'food', multiplier: '2' }] }, owner: { email: 'x@y.io' } },
      { earnRule: { categoryMultipliers: [{ category: 'food', multiplier: '2' }] }, owner: { email: 'x***@y***.io' } }],
  ])('%s', (_name, input, expected) => {
    expect(redactInput(input)).toEqual(expected);
  });

  it('a long string is cut at 1000 characters', () => {
    expect((redactInput({ description: 'a'.repeat(1500) }) as { description: string }).description).toHaveLength(1001);
  });

  it('masks without the clear value anywhere', () => {
    const text = JSON.stringify(redactInput({ email: 'secret.person@private.example', phone: '+33 6 12 34 56 78' }));
    expect(text).not.toContain('secret.person');
    expect(text).not.toContain('private');
    expect(text).not.toContain('12 34 56');
  });

  it.each([['a@b.c', 'a***@b***.c'], ['nodot@localhost', 'n***@l***']])('maskEmail(%s) = %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it('maskPhone keeps only the last two digits', () => {
    expect(maskPhone('(030) 123-4567')).toBe('***67');
  });
});
