import { Webhook } from 'standardwebhooks';
import { EXCERPT_CHARS, RETRY_DELAYS_MS, excerpt, isForbiddenAddress, newSecret, nextAttemptAt, signatureHeader, urlProblem } from './webhook.rules';

describe('retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h between attempts, ±10% jitter, then none', () => {
  const at = new Date('2026-11-30T00:00:00Z');
  it.each(RETRY_DELAYS_MS.map((d, i) => [i + 1, d]))('after attempt %i the next is %i ms later at the middle of the jitter', (n, delay) => {
    expect(nextAttemptAt(n, at, 0.5)!.getTime() - at.getTime()).toBe(delay);
    expect(nextAttemptAt(n, at, 0)!.getTime() - at.getTime()).toBe(Math.round(delay * 0.9));
    expect(nextAttemptAt(n, at, 0.999999)!.getTime() - at.getTime()).toBeLessThanOrEqual(Math.round(delay * 1.1));
  });
  it('after the eighth attempt there is none', () => expect(nextAttemptAt(8, at, 0.5)).toBeNull());
  it('adds up to about 27.5 hours', () => expect(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)).toBe(99_305_000));
});

it('signatures verify with the standardwebhooks package, for each of two secrets in force', () => {
  const [s1, s2] = [newSecret(), newSecret()];
  const ts = Math.floor(Date.now() / 1000);
  const body = '{"id":"e1","type":"webhook.test"}';
  const headers = { 'webhook-id': 'e1', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([s1, s2], 'e1', ts, body) };
  expect(new Webhook(s1).verify(body, headers)).toEqual({ id: 'e1', type: 'webhook.test' });
  expect(new Webhook(s2).verify(body, headers)).toEqual({ id: 'e1', type: 'webhook.test' });
  expect(() => new Webhook(s1).verify(body.replace('e1', 'e2'), headers)).toThrow();
});

it('a body signed as its UTF-8 bytes carries the signature of its text (verified with standardwebhooks)', () => {
  const secret = newSecret();
  const ts = Math.floor(Date.now() / 1000);
  const body = '{"id":"e1","type":"webhook.test","data":{"name":"Zoë 👩‍🍳 کتاب"}}';
  const headers = { 'webhook-id': 'e1', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([secret], 'e1', ts, Buffer.from(body)) };
  expect(headers['webhook-signature']).toBe(signatureHeader([secret], 'e1', ts, body));
  expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
});

it.each([
  ['127.0.0.1', true], ['127.9.9.9', true], ['10.0.0.1', true], ['172.16.5.4', true], ['172.32.0.1', false], ['192.168.1.1', true],
  ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['224.0.0.1', true], ['8.8.8.8', false], ['93.184.216.34', false],
  ['::1', true], ['::', true], ['fe80::1', true], ['fd00:ec2::254', true], ['fc00::1', true], ['::ffff:127.0.0.1', true], ['::ffff:8.8.8.8', false],
  ['2606:4700:4700::1111', false], ['not an address', true],
  ['192.0.2.1', true], ['198.51.100.7', true], ['203.0.113.9', true], ['198.19.255.1', true], ['198.20.0.1', false], ['240.0.0.1', true],
  ['255.255.255.255', true], ['192.88.99.1', true], ['100::1', true], ['::ffff:0:7f00:1', true], ['::ffff:0:808:808', true], ['::ffff:7f00:1', true],
  ['::ffff:808:808', false], ['2001:2::1', true], ['3fff::1', true], ['5f00::1', true], ['2001:4860:4860::8888', false], ['2a00:1450:4001::1', false],
  ['::127.0.0.1', true], ['2002:7f00:1::', true], ['fec0::1', true], ['64:ff9b:1::a9fe:a9fe', true], ['64:ff9b::a9fe:a9fe', true], ['2001:0:4136:e378::1', true],
])('address %s is forbidden: %s', (address, forbidden) => {
  expect(isForbiddenAddress(address)).toBe(forbidden);
});

it.each([
  ['https://hooks.example.com/x', false, null],
  ['http://hooks.example.com/x', false, 'url must use https'],
  ['http://127.0.0.1:9/x', true, null],
  ['ftp://example.com/', true, 'url must use https'],
  ['https://a:b@example.com/', false, 'url must not carry credentials'],
  ['nonsense', false, 'url must be an absolute URL'],
])('url %s (private allowed: %s) → %s', (url, allow, problem) => {
  expect(urlProblem(url, allow)).toBe(problem);
});

it('an excerpt never cuts an emoji in half: one straddling the 200th character is left out', () => {
  const before = 'a'.repeat(EXCERPT_CHARS - 1);
  expect(excerpt(`${before}😀 and more`)).toBe(before);
  expect(excerpt(`${before}é😀`)).toBe(`${before}é`);
  expect(excerpt('😀'.repeat(150))).toBe('😀'.repeat(EXCERPT_CHARS / 2));
  expect(excerpt('short 😀')).toBe('short 😀');
});
