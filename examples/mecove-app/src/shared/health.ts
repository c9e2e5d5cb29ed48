// Health aggregation: pure, so the status/body rules are unit-tested.

export type CheckResult = { ok: true } | { ok: false; error: string };

export interface HealthBody {
  status: "ok" | "error";
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
 * the texts are always logged. A draining process answers as usual: the only
 * requests it still gets are already on their way to it, and nothing in
 * front of it (Caddy, PM2's master) acts on a 503, so a "shutting down" 503
 * would just fail them.
 */
export function healthResponse(
  db: CheckResult,
  redis: CheckResult,
  version: string,
  { details = false }: { details?: boolean } = {},
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
  return { statusCode: body.status === "ok" ? 200 : 503, body };
}
