import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Three webhook receivers on loopback for the bench's phase (f), in a child process of their own so
 * the load generator's event loop does not delay them: each answers 200 at once, then records the
 * delivery lag, now − the event's `timestamp` (its commit, within the posting's last milliseconds),
 * in ms. The parent asks over IPC: 'count' → { count, cpuMicros } (this process's CPU so far, µs), 'report' → { lags },
 * 'reset' → { lags: [] } (forgets the deliveries so far).
 */
const lags: number[] = [];
const servers = [0, 1, 2].map(() => createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { body += chunk; });
  req.on('end', () => {
    const at = Date.now();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    try {
      lags.push(at - Date.parse((JSON.parse(body) as { timestamp: string }).timestamp));
    } catch {
      lags.push(Number.NaN);
    }
  });
}));

void Promise.all(servers.map((s) => new Promise<number>((ready) => s.listen(0, '127.0.0.1', () => ready((s.address() as AddressInfo).port)))))
  .then((ports) => process.send!({ ports }));
process.on('message', (message) => {
  if (message === 'count') {
    const cpu = process.cpuUsage();
    process.send!({ count: lags.length, cpuMicros: cpu.user + cpu.system });
  }
  if (message === 'report') process.send!({ lags });
  if (message === 'reset') {
    lags.length = 0;
    process.send!({ lags });
  }
});
process.on('disconnect', () => process.exit(0));
