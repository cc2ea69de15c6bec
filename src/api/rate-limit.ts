/**
 * Leaky buckets of query cost, one per caller, held in this process's memory (several instances
 * each hold their own: see docs/changes/api-limits.md). A bucket holds up to `maximumAvailable`
 * points and refills at `restoreRate` points a second; a request takes its cost out before it runs.
 */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface BucketSize {
  /** Points the bucket holds when full; 0: no throttling. */
  maximumAvailable: number;
  /** Points restored per second. */
  restoreRate: number;
}

interface Bucket {
  available: number;
  /** When `available` was last brought up to date, in ms since the epoch. */
  at: number;
}

/** Buckets beyond this many are swept of those that have refilled (a full bucket is the same as none). */
const SWEEP_AT = 10_000;

export class CostBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private current(key: string, size: BucketSize): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(size, now);
      bucket = { available: size.maximumAvailable, at: now };
      this.buckets.set(key, bucket);
    } else {
      const restored = ((now - bucket.at) / 1000) * size.restoreRate;
      bucket.available = Math.min(size.maximumAvailable, bucket.available + restored);
      bucket.at = now;
    }
    return bucket;
  }

  private sweep(size: BucketSize, now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.available + ((now - bucket.at) / 1000) * size.restoreRate >= size.maximumAvailable) this.buckets.delete(key);
    }
  }

  /**
   * Takes `cost` points from the caller's bucket. Refused (nothing taken) when the bucket holds
   * less: `retryAfterSeconds` is when it will hold enough (whole seconds, at least 1).
   */
  take(key: string, size: BucketSize, cost: number): { ok: true; status: ThrottleStatus } | { ok: false; retryAfterSeconds: number; status: ThrottleStatus } {
    const bucket = this.current(key, size);
    if (bucket.available < cost) {
      const retryAfterSeconds = Math.max(1, Math.ceil((cost - bucket.available) / size.restoreRate));
      return { ok: false, retryAfterSeconds, status: statusOf(bucket, size) };
    }
    bucket.available -= cost;
    return { ok: true, status: statusOf(bucket, size) };
  }

  /** Gives back `points` (the requested cost was more than the actual), or takes more when negative; never above full. */
  settle(key: string, size: BucketSize, points: number): ThrottleStatus {
    const bucket = this.current(key, size);
    bucket.available = Math.min(size.maximumAvailable, bucket.available + points);
    return statusOf(bucket, size);
  }
}

function statusOf(bucket: Bucket, size: BucketSize): ThrottleStatus {
  return { maximumAvailable: size.maximumAvailable, currentlyAvailable: Math.floor(bucket.available), restoreRate: size.restoreRate };
}
