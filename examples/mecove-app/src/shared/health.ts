// Health aggregation: pure, so the status/body rules are unit-tested.

export type CheckResult = { ok: true } | { ok: false; error: string };

export interface HealthBody {
  status: "ok" | "error" | "shutting_down";
  db: "ok" | "error";
  redis: "ok" | "error";
  version: string;
  errors?: Record<string, string>;
}

/** One readable line out of a driver's (often multi-line) error message. */
export function shortError(message: string): string {
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^Invalid `.*` invocation:?$/.test(l));
  return (lines.at(-1) ?? message).slice(0, 300);
}

/**
 * status is 200 only when both dependencies answer. `details` adds the error
 * texts (host names, ports...): the API passes it only outside production;
 * the texts are always logged.
 */
export function healthResponse(
  db: CheckResult,
  redis: CheckResult,
  version: string,
  { shuttingDown = false, details = false }: { shuttingDown?: boolean; details?: boolean } = {},
): { statusCode: number; body: HealthBody } {
  const body: HealthBody = {
    status: db.ok && redis.ok ? "ok" : "error",
    db: db.ok ? "ok" : "error",
    redis: redis.ok ? "ok" : "error",
    version,
  };
  const errors: Record<string, string> = {};
  if (!db.ok) errors.db = db.error;
  if (!redis.ok) errors.redis = redis.error;
  if (details && Object.keys(errors).length > 0) body.errors = errors;
  if (shuttingDown) body.status = "shutting_down";
  return { statusCode: body.status === "ok" ? 200 : 503, body };
}
