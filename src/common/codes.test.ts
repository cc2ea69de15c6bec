import { canonicalCode } from './codes';
import { invisibleCharacter } from './text';

describe('canonicalCode: case, spaces and dashes ignored', () => {
  it.each([
    ['GROCER', 'GROCER'],
    ['grocer', 'GROCER'],
    [' gro-cer ', 'GROCER'],
    ['Gro Cer', 'GROCER'],
    ['abcd\u2013efgh', 'ABCDEFGH'], // an en dash, as word processors write it
    ['\uff27\uff32\uff2f\uff23\uff25\uff32', 'GROCER'], // full-width letters
    ['1234 5678-9012', '123456789012'],
  ])('%j → %s', (input, code) => {
    expect(canonicalCode(input)).toBe(code);
  });

  it.each([[''], ['  - '], ['GRO\u200bCER'], ['\u202eRECORG'], ['GROCER\ufeff']])('%j is no code', (input) => {
    expect(canonicalCode(input)).toBeUndefined();
  });
});

describe('invisibleCharacter', () => {
  it.each([
    ['\u200b', 'U+200B'], ['\u200c', 'U+200C'], ['\u200d', 'U+200D'], ['\u2060', 'U+2060'], ['\ufeff', 'U+FEFF'],
    ['\u202a', 'U+202A'], ['\u202e', 'U+202E'], ['\u2066', 'U+2066'], ['\u2069', 'U+2069'], ['\u200e', 'U+200E'], ['\u200f', 'U+200F'],
    ['\u00ad', 'U+00AD'], ['\u3164', 'U+3164'], ['\ufe0f', 'U+FE0F'], ['\u0007', 'U+0007'],
  ])('finds %j as %s', (char, name) => {
    expect(invisibleCharacter(`ab${char}cd`)).toBe(name);
  });

  it.each([['plain text'], [' tab\tand newline\n'], ['jän@bücher.de'], ['日本語']])('finds none in %j', (text) => {
    expect(invisibleCharacter(text)).toBeUndefined();
  });
});
