const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A donation's receipt number: "RCPT-" and its id in Crockford base32 — unique because the id is. */
export function receiptNumber(donationId: string): string {
  let value = BigInt(`0x${donationId.replace(/-/g, '')}`);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return `RCPT-${out}`;
}
