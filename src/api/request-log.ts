import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../common/logger';
import { Role } from './auth';
import { observeRequest } from './metrics';
import type { RequestRecord } from './observe';

/** A client's x-request-id is kept when it is 1–128 printable ASCII characters; otherwise the hub makes one. */
const REQUEST_ID = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

/** The id for this request: the client's x-request-id when acceptable, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Starts a request's record and echoes its id in the x-request-id response header. */
export function beginRequest(req: IncomingMessage, res: ServerResponse): RequestRecord {
  const id = requestIdFrom(req.headers['x-request-id']);
  res.setHeader('x-request-id', id);
  return {
    id,
    startedAt: process.hrtime.bigint(),
    method: req.method?.toUpperCase() ?? 'GET',
    path: new URL(req.url ?? '/', 'http://localhost').pathname.slice(0, 256),
    resolved: false,
    graphql: false,
    userErrorCodes: [],
    errorCodes: [],
    postingTypes: [],
  };
}

/**
 * The outcome as the log line says it: `errors:CODE,…` (GraphQL errors), `http:STATUS` (an HTTP
 * error without GraphQL errors), `userErrors:CODE,…`, or `ok`.
 */
export function outcomeText(record: RequestRecord, status: number): string {
  if (record.errorCodes.length) return `errors:${[...new Set(record.errorCodes)].join(',')}`;
  if (status >= 400) return `http:${status}`;
  if (record.userErrorCodes.length) return `userErrors:${[...new Set(record.userErrorCodes)].join(',')}`;
  return 'ok';
}

function callerId(record: RequestRecord): string | undefined {
  const caller = record.caller;
  if (!caller) return undefined;
  if (caller.role === Role.PARTNER) return caller.partnerId;
  if (caller.role === Role.AFFILIATE) return caller.affiliateId;
  if (caller.role === Role.MEMBER) return caller.memberId;
  return undefined;
}

/**
 * When the response is sent (or the client went away): one JSON log line and the metrics.
 * The line holds ids, names and codes only — never the query text, variables, headers or tokens,
 * so no e-mail, phone or token can reach the log.
 */
export function finishRequest(record: RequestRecord, res: ServerResponse, log: Logger): void {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const seconds = Number(process.hrtime.bigint() - record.startedAt) / 1e9;
    const status = res.writableFinished ? res.statusCode : 499;
    observeRequest(record, status, seconds);
    log.info('request', {
      requestId: record.id,
      method: record.method,
      path: record.path,
      status,
      operation: record.operation ?? null,
      operationType: record.operationType ?? null,
      role: record.caller?.role ?? null,
      callerId: callerId(record) ?? null,
      durationMs: Math.round(seconds * 1e4) / 10,
      outcome: outcomeText(record, status),
    });
  };
  res.once('finish', finish);
  res.once('close', finish);
}
