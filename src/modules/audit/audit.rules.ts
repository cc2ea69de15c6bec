/**
 * The audit log's rules, pure: the catalogue of actions it records and how an input is redacted
 * before it is stored (no secret or token, no e-mail address or phone number in clear).
 */

/** Every action the audit log records, with what it means. Add new ones here (and in docs). */
export const AUDIT_ACTIONS = {
  'coalition.configured': 'The coalition settings were replaced (name, currency, donation value, tiers, referral bonuses, settlement model)',
  'partner.created': 'A partner was created with its earn rule, redemption value and commission plan',
  'partner.earnRuleUpdated': "A partner's earn rule was replaced",
  'partner.termsUpdated': "A partner's redemption value or issuance price was changed",
  'partner.commissionPlanUpdated': "A partner's affiliate commission plan was replaced or removed",
  'promotion.created': 'A promotion was created for a partner',
  'bonusLimits.set': "A partner's action-bonus limits were replaced",
  'cause.created': 'A charity cause was created',
  'cause.activeSet': 'A cause was opened or closed to donations',
  'campaign.created': 'A partner matching campaign was created for a cause',
  'affiliate.created': 'An affiliate was created (its e-mail is masked)',
  'token.issued': 'An access token was signed: role, subject and lifetime only, never the token',
  'member.erased': "A member's personal data was erased",
  'member.preferencesUpdated': "A member's communication preferences (consent) were changed",
  'member.identifiersAdded': "An existing member gained the enrolling partner's own reference (externalRef) at enrollment (values masked)",
  'settlement.closed': 'A settlement period was closed into a new run',
  'webhook.endpointCreated': 'A webhook endpoint was created (its secret never stored here)',
  'webhook.endpointUpdated': 'A webhook endpoint was changed, disabled or re-enabled',
  'webhook.endpointDeleted': 'A webhook endpoint was deleted with its deliveries',
  'webhook.secretRotated': "A webhook endpoint's signing secret was rotated",
  'reward.created': 'A reward was added to the catalog (a partner\'s own or the operator\'s)',
  'reward.updated': 'A reward was changed, withdrawn (active false) or put back',
  'club.created': 'A club was created (coalition-wide or a partner\'s own)',
  'club.membershipGranted': 'A member was granted (or renewed) a club membership bought with money',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

/** What an entry is about. */
export type AuditSubjectType = 'COALITION' | 'PARTNER' | 'PROMOTION' | 'CAUSE' | 'CAMPAIGN' | 'AFFILIATE' | 'MEMBER' | 'OPERATOR' | 'SETTLEMENT_RUN' | 'WEBHOOK_ENDPOINT' | 'REWARD' | 'CLUB';

export const REDACTED = '[redacted]';

/** Keys whose values are never stored: secrets and credentials of any kind. */
const SECRET_KEY = /token|secret|password|passphrase|api_?key|authorization|credential|signing_?key|private_?key/i;
/** Keys whose values are personal data stored as nothing at all. */
const PERSONAL_KEY = /^(birth_?date|date_?of_?birth|external_?ref)$/i;
const EMAIL_KEY = /e-?mail/i;
const PHONE_KEY = /phone|mobile|msisdn/i;

const EMAIL_VALUE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INTERNATIONAL_PHONE = /^\+\d[\d\s().-]*$/;
/** A JWT (three base64url parts, the first a JSON header): a token, whatever its key is called. */
const JWT_VALUE = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
const MAX_STRING = 1000;
const MAX_DEPTH = 8;

/** `jane.doe@example.com` → `j***@e***.com`: enough to tell entries apart, not to identify anyone. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***${tld}`;
}

/** `+49 170 1234567` → `***67`: the last two digits only. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return `***${digits.slice(-2)}`;
}

/** By shape only an international number (`+` and at least 7 digits): amounts are digit strings too. */
function isPhoneLike(value: string): boolean {
  return INTERNATIONAL_PHONE.test(value) && value.replace(/\D/g, '').length >= 7;
}

function redactString(key: string, value: string): string {
  if (SECRET_KEY.test(key) || JWT_VALUE.test(value)) return REDACTED;
  if (PERSONAL_KEY.test(key)) return REDACTED;
  if (EMAIL_KEY.test(key) || EMAIL_VALUE.test(value)) return EMAIL_VALUE.test(value) ? maskEmail(value) : REDACTED;
  if (PHONE_KEY.test(key) || isPhoneLike(value)) return maskPhone(value);
  return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
}

/** An identifier `{ kind, value }`: the value masked by its kind (EMAIL, PHONE, EXTERNAL_REF). */
function redactIdentifier(kind: string, value: string): string {
  if (kind === 'EMAIL') return maskEmail(value);
  if (kind === 'PHONE') return maskPhone(value);
  if (kind === 'EXTERNAL_REF') return REDACTED;
  return redactString('value', value);
}

function redactValue(key: string, value: unknown, depth: number): unknown {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value === 'boolean') return value;
  if (SECRET_KEY.test(key) || PERSONAL_KEY.test(key)) return REDACTED;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return redactString(key, value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(key, v, depth + 1) ?? null);
  const record = value as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return redactValue(key, record.toJSON(), depth + 1);
  const out: Record<string, unknown> = {};
  const identifierKind = typeof record.kind === 'string' && typeof record.value === 'string' ? record.kind : undefined;
  for (const [k, v] of Object.entries(record)) {
    const redacted = identifierKind !== undefined && k === 'value' ? redactIdentifier(identifierKind, v as string) : redactValue(k, v, depth + 1);
    if (redacted !== undefined) out[k] = redacted;
  }
  return out;
}

/**
 * The input of a change as the audit log stores it: plain JSON (dates as ISO text, bigints as
 * text), every secret or token replaced by `[redacted]`, e-mail addresses and phone numbers masked
 * wherever they appear (by key or by shape), birth dates and partner references dropped to
 * `[redacted]`, long strings cut at 1000 characters.
 */
export function redactInput(input: unknown): Record<string, unknown> | unknown[] | string | number | boolean | null {
  const redacted = redactValue('', input, 0);
  return (redacted === undefined ? null : redacted) as Record<string, unknown> | unknown[] | string | number | boolean | null;
}
