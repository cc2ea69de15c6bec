import { domainToASCII } from 'node:url';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { invisibleCharacter } from '../../common/text';

/**
 * An e-mail address as it is stored and matched (docs/rules.md, Members and identity): trimmed,
 * Unicode NFC, the local part lower-cased, the domain lower-cased in its ASCII (punycode) form,
 * so "Jän@Bücher.de", its NFD spelling and "jän@xn--bcher-kva.de" are one address. Undefined when
 * it is not an address or holds an invisible or bidirectional control character.
 */
export function normalizeEmail(input: string): string | undefined {
  if (invisibleCharacter(input)) return undefined;
  const text = input.trim().normalize('NFC');
  const at = text.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = domainToASCII(text.slice(at + 1).toLowerCase());
  if (!domain) return undefined;
  const email = `${text.slice(0, at).toLowerCase()}@${domain}`;
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 254 ? email : undefined;
}

/**
 * Phones are matched in E.164. A number must carry its country code and have a length possible
 * there; number ranges are not checked, so new ranges work before the metadata knows them.
 * Invisible and bidirectional control characters are refused, not skipped.
 */
export function normalizePhone(input: string): string | undefined {
  if (invisibleCharacter(input)) return undefined;
  const trimmed = input.trim().replace(/^00/, '+');
  if (!trimmed.startsWith('+')) return undefined;
  const phone = parsePhoneNumberFromString(trimmed);
  return phone?.isPossible() ? phone.number : undefined;
}

/** A real calendar date, not in the future, and not before 1900. */
export function isPlausibleBirthDate(input: string, today = new Date()): boolean {
  const date = new Date(`${input}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === input && date <= today && input >= '1900-01-01';
}

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The mailbox a normalized e-mail reaches, for telling whether two addresses are one person
 * (self-referral, affiliate self-attribution) — not for matching identifiers: the `+tag` is
 * dropped, and for gmail.com / googlemail.com the dots too ("jane.doe+x@googlemail.com" →
 * "janedoe@gmail.com").
 */
export function mailboxOf(email: string): string {
  const at = email.lastIndexOf('@');
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    local = local.replace(/\./g, '');
  }
  return `${local}@${domain}`;
}

/** Normalized e-mail and E.164 phone of a person, either possibly absent. */
export interface ContactIdentity {
  email: string | null;
  phone: string | null;
}

/** Whether two people share a mailbox (mailboxOf) or a phone number: then they are one person. */
export function isSamePerson(a: ContactIdentity, b: ContactIdentity): boolean {
  if (a.email && b.email && mailboxOf(a.email) === mailboxOf(b.email)) return true;
  return a.phone !== null && a.phone === b.phone;
}
