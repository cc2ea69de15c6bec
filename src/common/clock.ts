/**
 * The time the hub reads. Production reads the system clock; a test moves a clock of its own
 * (`useClock(new ManualClock(...))`) instead of sleeping, so retry schedules and windows of days run
 * in milliseconds. Code that schedules by time reads `clock.now()`, never `new Date()` directly
 * (the webhook worker and its services do; older modules still read the system time).
 */
export interface Clock {
  /** Now, in UTC. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

let source: Clock = systemClock;

/** The process's clock. */
export const clock: Clock = { now: () => source.now() };

/** Replaces the process's clock (tests); `useClock(systemClock)` restores it. */
export function useClock(next: Clock): void {
  source = next;
}

/** A clock that stands still until moved: `advance(ms)` or `set(date)`. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(date: Date): void {
    this.current = date.getTime();
  }
}
