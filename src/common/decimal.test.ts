import { Dec, formatMinorUnits, formatRate, fractionDigits, parseDecimal, toMinorUnits } from './decimal';

describe('parseDecimal accepts canonical decimal strings only', () => {
  it.each([
    ['0', '0'],
    ['12.50', '12.5'],
    ['-5', '-5'],
    ['-0.5', '-0.5'],
    ['19.99', '19.99'],
    ['123456789012345678', '123456789012345678'],
    ['0.123456789012345678', '0.123456789012345678'],
    ['999999999999999999.999999999999999999', '999999999999999999.999999999999999999'],
  ])('%s is the decimal %s, exactly', (text, value) => {
    expect(parseDecimal(text)?.toFixed()).toBe(value);
  });

  it.each([
    ['', 'empty'],
    ['abc', 'not a number'],
    ['1e5', 'exponent notation'],
    ['1E5', 'exponent notation, upper case'],
    ['+1', 'a plus sign'],
    ['01', 'a leading zero'],
    ['00.5', 'leading zeros'],
    ['1.', 'a point without digits after it'],
    ['.5', 'a point without digits before it'],
    ['1,50', 'a decimal comma'],
    ['1 000', 'a digit group separator'],
    [' 1', 'leading space'],
    ['1 ', 'trailing space'],
    ['--1', 'two signs'],
    ['1.2.3', 'two points'],
    ['0x10', 'hexadecimal'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['1234567890123456789', '19 integer digits'],
    ['0.1234567890123456789', '19 fractional digits'],
  ])('%j (%s) is refused', (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });
});

describe('minor units', () => {
  it.each([
    ['12.50', 2, 1250n],
    ['0.01', 2, 1n],
    ['0', 2, 0n],
    ['-5.25', 2, -525n],
    ['1000000000', 2, 100000000000n],
    ['1000', 0, 1000n],
    ['-7', 0, -7n],
    ['1.234', 3, 1234n],
    ['-0.007', 3, -7n],
  ])('%s with exponent %i is %s minor units', (amount, exponent, minor) => {
    expect(toMinorUnits(new Dec(amount), exponent)).toBe(minor);
  });

  it.each([
    [1250n, 2, '12.50'],
    [5n, 2, '0.05'],
    [0n, 2, '0.00'],
    [-525n, 2, '-5.25'],
    [-5n, 2, '-0.05'],
    [100000000000n, 2, '1000000000.00'],
    [1000n, 0, '1000'],
    [0n, 0, '0'],
    [-7n, 0, '-7'],
    [1234n, 3, '1.234'],
    [7n, 3, '0.007'],
    [-7n, 3, '-0.007'],
    [9223372036854775807n, 2, '92233720368547758.07'],
  ])('%s minor units with exponent %i print as %s', (minor, exponent, text) => {
    expect(formatMinorUnits(minor, exponent)).toBe(text);
  });

  it.each([
    ['12.50', 2],
    ['-12.50', 2],
    ['0.00', 2],
    ['0.01', 2],
    ['-0.01', 2],
    ['999999999.99', 2],
    ['123', 0],
    ['-123', 0],
    ['1.001', 3],
    ['-1.001', 3],
  ])('%s with exponent %i survives the round trip through minor units', (text, exponent) => {
    const minor = toMinorUnits(new Dec(text), exponent);
    expect(formatMinorUnits(minor, exponent)).toBe(text);
    expect(toMinorUnits(new Dec(formatMinorUnits(minor, exponent)), exponent)).toBe(minor);
  });

  it('does not go through floating point: 0.1 + 0.2 is exactly 0.30', () => {
    const sum = new Dec('0.1').plus('0.2');
    expect(toMinorUnits(sum, 2)).toBe(30n);
    expect(formatMinorUnits(toMinorUnits(sum, 2), 2)).toBe('0.30');
  });
});

describe('rates and fraction digits', () => {
  it.each([
    ['1.250000', '1.25'],
    ['0.000001', '0.000001'],
    ['1000000', '1000000'],
    ['2', '2'],
  ])('the rate %s is shown as %s: trailing zeros trimmed, never exponent notation', (rate, shown) => {
    expect(formatRate(rate)).toBe(shown);
    expect(formatRate(new Dec(rate))).toBe(shown);
  });

  it.each([
    ['12.50', 1],
    ['12.345', 3],
    ['7', 0],
    ['0.000001', 6],
  ])('%s has %i significant fraction digits', (text, digits) => {
    expect(fractionDigits(new Dec(text))).toBe(digits);
  });
});
