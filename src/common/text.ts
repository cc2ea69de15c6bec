/**
 * Characters that print as nothing or silently reorder what is shown: control characters other
 * than ordinary white space, every Unicode format character (zero-width space and joiners U+200B..
 * U+200D, word joiner U+2060, byte-order mark U+FEFF, the bidirectional marks, embeddings,
 * overrides and isolates U+200E/F, U+202A..U+202E, U+2066..U+2069, soft hyphen, tag characters …),
 * and the blank letters and selectors that render empty (Hangul fillers, variation selectors,
 * combining grapheme joiner, Mongolian selectors, Khmer inherent vowels).
 */
const INVISIBLE = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0\u{E0100}-\u{E01EF}]/u;

/**
 * The first invisible or bidirectional control character in `text`, as "U+200B", or undefined.
 * Identifiers and codes holding one are refused: two strings that look the same must not be two
 * identities (docs/rules.md, Members and identity).
 */
export function invisibleCharacter(text: string): string | undefined {
  const found = INVISIBLE.exec(text);
  return found ? `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

/**
 * What free text (names and descriptions, docs/rules.md, Requests and limits, Free text) may not
 * hold: every control character (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F), every Unicode
 * format character (the zero-width and bidirectional characters above among them), the combining
 * grapheme joiner U+034F, Hangul fillers and Khmer inherent vowels, which render as nothing.
 * Unlike identifiers, variation selectors stay allowed (emoji presentation, as in ❤️).
 */
const FREE_TEXT_REFUSED = /[\p{Cc}\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u3164\uFFA0]/u;
const MULTI_LINE_ALLOWED = new Set(['\t', '\n', '\r']);

/**
 * The first character free text may not hold, as its code point ("U+0007") and 1-based position in
 * code points, or undefined. `multiLine` (descriptions) allows tab, line feed and carriage return.
 */
export function refusedTextCharacter(text: string, multiLine: boolean): { codePoint: string; position: number } | undefined {
  const chars = [...text];
  for (let i = 0; i < chars.length; i += 1) {
    const ch = chars[i]!;
    if (FREE_TEXT_REFUSED.test(ch) && !(multiLine && MULTI_LINE_ALLOWED.has(ch)) && !visibleJoin(chars, i)) {
      return { codePoint: `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, position: i + 1 };
    }
  }
  return undefined;
}

/** An emoji, or what may end one before a zero-width joiner (skin tone, emoji presentation selector). */
const EMOJI_PART = /[\p{Extended_Pictographic}\u{1F3FB}-\u{1F3FF}\uFE0F]/u;
/** Scripts whose words need the zero-width (non-)joiner (Persian plurals, Indic conjuncts). */
const JOINING_SCRIPT = /[\p{sc=Arabic}\p{sc=Syriac}\p{sc=Devanagari}\p{sc=Bengali}\p{sc=Gurmukhi}\p{sc=Gujarati}\p{sc=Oriya}\p{sc=Tamil}\p{sc=Telugu}\p{sc=Kannada}\p{sc=Malayalam}\p{sc=Sinhala}]/u;

/**
 * Whether the format character at `i` is part of what renders visibly: a zero-width joiner inside an
 * emoji sequence (👩‍🍳, 🏳️‍🌈), a zero-width (non-)joiner between two letters of a script that needs it
 * (کتاب‌ها), or a tag character of a subdivision flag (🏴 + tags + cancel tag).
 */
function visibleJoin(chars: string[], i: number): boolean {
  const ch = chars[i]!;
  const before = chars[i - 1] ?? '';
  const after = chars[i + 1] ?? '';
  if (ch === '\u200D' && EMOJI_PART.test(before) && /\p{Extended_Pictographic}/u.test(after)) return true;
  if ((ch === '\u200C' || ch === '\u200D') && JOINING_SCRIPT.test(before) && JOINING_SCRIPT.test(after)) return true;
  const cp = ch.codePointAt(0)!;
  if (cp >= 0xE0020 && cp <= 0xE007F) {
    let start = i;
    while (start > 0 && chars[start - 1]!.codePointAt(0)! >= 0xE0020 && chars[start - 1]!.codePointAt(0)! <= 0xE007E) start -= 1;
    let end = i;
    while (end < chars.length && chars[end]!.codePointAt(0)! !== 0xE007F && chars[end]!.codePointAt(0)! >= 0xE0020 && chars[end]!.codePointAt(0)! < 0xE007F) end += 1;
    return chars[start - 1] === '\u{1F3F4}' && chars[end] === '\u{E007F}' && end > start;
  }
  return false;
}
