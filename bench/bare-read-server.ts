import 'reflect-metadata';
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { Role, verifyToken } from '../src/api/auth';

/**
 * Reference (d3) of `npm run bench`: the member balance read over a bare node:http handler, with
 * the same JWT check as the hub and the same SQL as the bench's (d2), in its own process like the
 * hub. Not a product: it exists to show what Apollo and type-graphql cost on a read.
 * Environment: DATABASE_URL, JWT_SECRET, PORT. Answers POST / with {"id": memberId} → {"balance": n}.
 */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 40 });
const secret = process.env.JWT_SECRET!;
export const BALANCE_SQL = `SELECT m.balance FROM member m WHERE m.id = $1
  AND EXISTS (SELECT 1 FROM member_partner_link l WHERE l.member_id = m.id AND l.partner_id = $2)`;

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const caller = verifyToken(secret, (req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if ('invalid' in caller || caller.role !== Role.PARTNER) {
      res.writeHead(401).end();
      return;
    }
    const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
    pool.query({ name: 'bare-balance', text: BALANCE_SQL, values: [id, caller.partnerId] }).then((r) => {
      const body = JSON.stringify(r.rowCount ? { balance: Number(r.rows[0].balance) } : { balance: null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    }, () => res.writeHead(500).end());
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
