import { isPlausibleBirthDate, isSamePerson, mailboxOf, normalizeEmail, normalizePhone } from './member.rules';

describe('normalizeEmail: trimmed, NFC, lower-cased, domain in punycode', () => {
  it.each([
    ['ann@example.com', 'ann@example.com'],
    ['j\u00e4n@example.com', 'j\u00e4n@example.com'],
    ['ja\u0308n@example.com', 'j\u00e4n@example.com'], // NFD → NFC
    ['J\u00c4N@B\u00fccher.DE', 'j\u00e4n@xn--bcher-kva.de'],
    ['jan@xn--bcher-kva.de', 'jan@xn--bcher-kva.de'],
    ['  Ann@Example.COM ', 'ann@example.com'],
    ['ANN.SMITH+loyalty@Mail.Example.co.uk', 'ann.smith+loyalty@mail.example.co.uk'],
  ])('%j → %s', (input, email) => {
    expect(normalizeEmail(input)).toBe(email);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['ann', 'no @'],
    ['ann@example', 'no dot in the domain'],
    ['@example.com', 'no local part'],
    ['ann@', 'no domain'],
    ['ann smith@example.com', 'a space inside'],
    ['ann@@example.com', 'two @'],
    [`${'a'.repeat(250)}@example.com`, 'over 254 characters'],
    ['an\u200bn@example.com', 'a zero-width space'],
    ['ann@exa\u202emple.com', 'a right-to-left override'],
    ['\ufeffann@example.com', 'a byte-order mark'],
  ])('%j (%s) is refused', (input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });
});

describe('normalizePhone: E.164, with its country code', () => {
  it.each([
    ['+44 7700 900123', '+447700900123'],
    ['+447700900123', '+447700900123'],
    ['0044 7700 900123', '+447700900123'],
    ['00 44 7700 900123', '+447700900123'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['+49 151 12345678', '+4915112345678'],
    ['  +33 6 12 34 56 78 ', '+33612345678'],
  ])('%j → %s', (input, phone) => {
    expect(normalizePhone(input)).toBe(phone);
  });

  it.each([
    ['07700 900123', 'no country code'],
    ['7700 900123', 'no country code, no trunk prefix'],
    ['+44 12', 'too short'],
    ['+4477009001231234', 'too long'],
    ['+', 'only a plus'],
    ['', 'empty'],
    ['call me', 'not a number'],
  ])('%j (%s) is refused', (input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });
});

describe('isPlausibleBirthDate: a real date, not in the future, not before 1900', () => {
  const today = new Date('2025-06-15T12:00:00Z');
  it.each([
    ['1990-05-17', true, 'an ordinary date'],
    ['2000-02-29', true, 'Feb 29 of a leap year divisible by 400'],
    ['2024-02-29', true, 'Feb 29 of a leap year'],
    ['2023-02-29', false, 'Feb 29 of a common year'],
    ['1900-02-29', false, 'Feb 29 of 1900, not a leap year'],
    ['2023-04-31', false, 'April has 30 days'],
    ['2000-13-01', false, 'month 13'],
    ['2000-00-10', false, 'month 0'],
    ['2000-01-00', false, 'day 0'],
    ['2025-06-15', true, 'today'],
    ['2025-06-16', false, 'tomorrow'],
    ['2100-01-01', false, 'far in the future'],
    ['1900-01-01', true, 'the first day allowed'],
    ['1899-12-31', false, 'before 1900'],
    ['2000-1-1', false, 'not zero-padded'],
    ['01/02/2000', false, 'another format'],
    ['2000-01-01T00:00:00Z', false, 'a date-time'],
    ['', false, 'empty'],
    ['yesterday', false, 'words'],
  ])('%s → %s (%s)', (input, plausible) => {
    expect(isPlausibleBirthDate(input, today)).toBe(plausible);
  });

  it('judges against the real clock by default', () => {
    expect(isPlausibleBirthDate('1990-05-17')).toBe(true);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(isPlausibleBirthDate(tomorrow)).toBe(false);
  });
});

describe('mailboxOf: the mailbox an address reaches, for telling one person', () => {
  it.each([
    ['jane.doe@gmail.com', 'janedoe@gmail.com'],
    ['janedoe+x@googlemail.com', 'janedoe@gmail.com'],
    ['j.a.n.e.doe+a+b@gmail.com', 'janedoe@gmail.com'],
    ['jane.doe+shop@example.com', 'jane.doe@example.com'],
    ['+only@example.com', '+only@example.com'],
  ])('%s → %s', (email, mailbox) => {
    expect(mailboxOf(email)).toBe(mailbox);
  });

  it.each<[string, { email: string | null; phone: string | null }, { email: string | null; phone: string | null }, boolean]>([
    ['gmail dots and a plus-tag', { email: 'jane.doe@gmail.com', phone: null }, { email: 'janedoe+x@googlemail.com', phone: null }, true],
    ['the same phone', { email: null, phone: '+447700900123' }, { email: 'a@example.com', phone: '+447700900123' }, true],
    ['dots elsewhere than gmail', { email: 'jane.doe@example.com', phone: null }, { email: 'janedoe@example.com', phone: null }, false],
    ['nothing in common', { email: null, phone: null }, { email: null, phone: null }, false],
  ])('isSamePerson: %s → %s', (_name, a, b, same) => {
    expect(isSamePerson(a, b)).toBe(same);
  });
});
