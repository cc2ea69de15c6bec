import {
  decodeTransactionId, encodeTransactionId, isUuid, luhnCheckDigit, newMemberCode, newReferralCode, normalizeMemberCode,
  normalizeReferralCode, uuidv7,
} from './ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version 7, variant 10 uuid', () => {
    for (let i = 0; i < 100; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUID_V7);
      expect(isUuid(id)).toBe(true);
    }
  });

  it('carries its millisecond time in the first 48 bits', () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    expect(parseInt(uuidv7(now).replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts in time order, as text, across milliseconds', () => {
    const start = Date.UTC(2025, 5, 1);
    const ids = Array.from({ length: 50 }, (_, i) => uuidv7(start + i * 1000 + (i % 3)));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique within one millisecond', () => {
    const now = Date.now();
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7(now))).size).toBe(1000);
  });

  it('is monotonic within one millisecond: ids sort in the order they were made (RFC 9562 counter), past 4,096 too', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    expect([...ids].sort()).toEqual(ids);
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
    expect(ids.every((id) => id[14] === '7' && /^[89ab]$/.test(id[19]!))).toBe(true);
  });
});

describe('isUuid', () => {
  it.each([
    ['01a2045c-ec39-7a0c-a22e-eab7d4fc7f06', true],
    ['00000000-0000-0000-0000-000000000000', true],
    ['01A2045C-EC39-7A0C-A22E-EAB7D4FC7F06', false],
    ['01a2045cec397a0ca22eeab7d4fc7f06', false],
    ['01a2045c-ec39-7a0c-a22e-eab7d4fc7f0', false],
    ['not-a-uuid', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(isUuid(text)).toBe(expected);
  });
});

describe('transaction ids', () => {
  it('decode what encode made: the member id and the transaction id', () => {
    for (let i = 0; i < 50; i++) {
      const memberId = uuidv7();
      const transactionId = uuidv7();
      const publicId = encodeTransactionId(memberId, transactionId);
      expect(publicId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(decodeTransactionId(publicId)).toEqual({ memberId, transactionId });
    }
  });

  it('differ for the same transaction uuid under different members', () => {
    const transactionId = uuidv7();
    expect(encodeTransactionId(uuidv7(), transactionId)).not.toBe(encodeTransactionId(uuidv7(), transactionId));
  });

  const valid = encodeTransactionId('01a2045c-ec39-7a0c-a22e-eab7d4fc7f06', '01a2045c-ec60-7222-89bb-1f63f507d72b');
  it.each([
    ['empty', ''],
    ['garbage', 'garbage'],
    ['a uuid', '01a2045c-ec39-7a0c-a22e-eab7d4fc7f06'],
    ['one character short', valid.slice(0, 42)],
    ['one character long', valid + 'A'],
    ['standard base64 characters', valid.slice(0, 41) + '+/'],
    ['base64 padding', valid.slice(0, 42) + '='],
    ['a space inside', valid.slice(0, 20) + ' ' + valid.slice(21)],
    ['non-ASCII', valid.slice(0, 42) + 'é'],
  ])('refuse %s', (_why, publicId) => {
    expect(decodeTransactionId(publicId)).toBeUndefined();
  });
});

describe('luhnCheckDigit', () => {
  it.each([
    ['7992739871', 3],
    ['411111111111111', 1], // 4111 1111 1111 1111
    ['401288888888188', 1], // 4012 8888 8888 1881
    ['555555555555444', 4], // 5555 5555 5555 4444
    ['37828224631000', 5], // 3782 822463 10005
    ['0', 0],
    ['1', 8],
  ])('of %s is %i', (digits, check) => {
    expect(luhnCheckDigit(digits)).toBe(check);
  });
});

describe('member codes', () => {
  it('are 12 digits, not starting with 0, that pass their own check', () => {
    for (let i = 0; i < 200; i++) {
      const code = newMemberCode();
      expect(code).toMatch(/^[1-9]\d{11}$/);
      expect(luhnCheckDigit(code.slice(0, 11))).toBe(Number(code[11]));
      expect(normalizeMemberCode(code)).toBe(code);
    }
  });

  // 12345678901 has check digit 5.
  it.each([
    ['123456789015', '123456789015'],
    ['1234 5678 9015', '123456789015'],
    ['1234-5678-9015', '123456789015'],
    [' 1234 - 5678 - 9015 ', '123456789015'],
    ['1234\t5678\n9015', '123456789015'],
  ])('%j is accepted as %s', (input, code) => {
    expect(normalizeMemberCode(input)).toBe(code);
  });

  it.each([
    ['123456789016', 'a wrong check digit'],
    ['123456789051', 'two digits swapped'],
    ['12345678901', '11 digits'],
    ['1234567890155', '13 digits'],
    ['12345678901A', 'a letter'],
    ['1234.5678.9015', 'dots'],
    ['', 'empty'],
  ])('%j (%s) is refused', (input) => {
    expect(normalizeMemberCode(input)).toBeUndefined();
  });
});

describe('referral codes', () => {
  it("are 8 characters of Crockford's alphabet: no I, L, O or U", () => {
    for (let i = 0; i < 200; i++) {
      const code = newReferralCode();
      expect(code).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/);
      expect(normalizeReferralCode(code)).toBe(code);
    }
  });

  it.each([
    ['ab12cd34', 'AB12CD34'],
    ['  AB12CD34 ', 'AB12CD34'],
    ['O0o0', '0000'],
    ['IiLl1', '11111'],
    ['b0ok', 'B00K'],
    ['hello', 'HE110'],
  ])('%j is read as %s: O is 0, I and L are 1', (input, code) => {
    expect(normalizeReferralCode(input)).toBe(code);
  });
});
