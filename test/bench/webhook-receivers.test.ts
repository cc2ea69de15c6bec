import { parseRequests } from '../../bench/webhook-receivers';

/** The bench's webhook receivers frame requests themselves (bench/webhook-receivers.ts): a delivery mis-framed would be counted wrong. */
const post = (body: string, headers = '') =>
  `POST /hooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const body = (id: string) => JSON.stringify({ id, type: 'transaction.posted', timestamp: '2026-12-02T10:00:00.000Z', data: { points: 24, name: 'Zoë' } });

/** Split at every byte into two reads: what the first read holds complete comes out of it, the rest with the second. */
function expectAtEveryCut(wire: Buffer, bodies: string[]): void {
  for (let cut = 0; cut <= wire.length; cut++) {
    const first = parseRequests(wire.subarray(0, cut));
    const rest = parseRequests(Buffer.concat([wire.subarray(first.used, cut), wire.subarray(cut)]));
    expect([...first.bodies, ...rest.bodies]).toEqual(bodies);
  }
}

describe('parseRequests', () => {
  it('frames pipelined requests by Content-Length, and leaves a request still arriving for the next read at every cut', () => {
    const wire = Buffer.from(post(body('msg_1')) + post(body('msg_2')) + post(body('msg_3')));
    expect(parseRequests(wire)).toEqual({ bodies: [body('msg_1'), body('msg_2'), body('msg_3')], used: wire.length, close: false, bad: false });
    // Cut anywhere (in the headers, in a body, inside the multi-byte "ë"): what is complete comes out whole, the rest waits.
    expectAtEveryCut(wire, [body('msg_1'), body('msg_2'), body('msg_3')]);
  });

  it('frames a chunked body (extensions and trailers included), chunked winning over a Content-Length', () => {
    const json = body('msg_c');
    const wire = Buffer.from(`POST /hooks HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n`
      + `a;ext=1\r\n${json.slice(0, 10)}\r\n${Buffer.byteLength(json.slice(10)).toString(16)}\r\n${json.slice(10)}\r\n0\r\nx-trailer: 1\r\n\r\n` + post(body('msg_d')));
    const parsed = parseRequests(wire);
    expect(parsed.bodies).toEqual([json, body('msg_d')]);
    expect(parsed.used).toBe(wire.length);
    expectAtEveryCut(wire, [json, body('msg_d')]);
  });

  it('stops after a request that asks to close, and reports one it cannot frame after the complete ones', () => {
    const closing = Buffer.from(post(body('msg_1'), 'connection: close\r\n') + post(body('msg_2')));
    expect(parseRequests(closing)).toMatchObject({ bodies: [body('msg_1')], close: true, bad: false });
    const bad = Buffer.from(post(body('msg_1')) + 'POST /hooks HTTP/1.1\r\ncontent-length: x\r\n\r\n{}');
    expect(parseRequests(bad)).toMatchObject({ bodies: [body('msg_1')], close: false, bad: true });
    // Not a close while its body is still arriving.
    expect(parseRequests(closing.subarray(0, closing.indexOf('msg_1')))).toMatchObject({ bodies: [], close: false, used: 0 });
  });
});
