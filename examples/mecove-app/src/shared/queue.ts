// BullMQ queue shared by the API (producer) and the worker (consumer).
import { Redis, type RedisOptions } from "ioredis";

export interface ReportJobData {
  reportId: string;
}

export const REPORT_JOB_NAME = "render-report";

/**
 * Connection for BullMQ. Workers use blocking commands and need
 * maxRetriesPerRequest = null; a producer behind an HTTP endpoint should fail
 * fast instead of queueing commands forever while Redis is down.
 */
export function createRedis(redisUrl: string, purpose: "worker" | "producer" | "health"): Redis {
  const common: RedisOptions = { connectionName: `mecove-${purpose}`, lazyConnect: false };
  switch (purpose) {
    case "worker":
      return new Redis(redisUrl, { ...common, maxRetriesPerRequest: null });
    case "producer":
      return new Redis(redisUrl, { ...common, maxRetriesPerRequest: 2 });
    case "health":
      // No offline queue: PING fails at once when Redis is unreachable.
      return new Redis(redisUrl, { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  }
}
