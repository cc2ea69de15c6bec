import { invisibleCharacter } from './text';

/** Separators people type or paste inside codes: white space, hyphen-minus and the Unicode dashes and minus signs. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/gu;

/**
 * The canonical form of any code — member, referral, affiliate, voucher, partner — as it is stored
 * and compared: compatibility-normalized (NFKC: full-width letters become ASCII), white space and
 * dashes removed, upper-cased. "gro-cer", " Grocer ", "GROCER" are all "GROCER". Undefined when
 * nothing is left or the text holds an invisible or bidirectional control character.
 */
export function canonicalCode(input: string): string | undefined {
  if (invisibleCharacter(input)) return undefined;
  const code = input.normalize('NFKC').replace(SEPARATORS, '').toUpperCase();
  return code || undefined;
}
