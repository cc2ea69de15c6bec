import pino from 'pino';

/** Structured JSON logs on stdout (pino): one line an event, cheap enough for the hot path. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, error?: unknown): void;
}

/** `destination`: where the JSON lines go (stdout when omitted; tests pass a stream to read them). */
export function createLogger(level: 'silent' | 'error' | 'info', destination?: pino.DestinationStream): Logger {
  const base = pino({ level, base: { service: 'coalition-hub' } }, destination);
  return {
    info: (message, fields) => base.info(fields ?? {}, message),
    error: (message, error) => base.error(error instanceof Error ? { err: error } : { detail: error }, message),
  };
}
