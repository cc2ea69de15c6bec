import type { Socket } from 'node:net';

/**
 * Reads HTTP/1.1 requests off a raw socket as they arrive, pipelined ones included, and hands each
 * to `onRequest` whole: its head (request line and headers, latin1) and its body (by
 * `content-length`; no chunked bodies: the hub always sends a length). For test receivers that
 * answer at the byte level (out of order, twice, one after another, never).
 */
export function onPipelinedRequests(socket: Socket, onRequest: (head: string, body: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length);
      buffered = buffered.subarray(end + 4 + length);
      onRequest(head, body);
    }
  });
}
