// Structured JSON logs, one object per line on stdout (PM2 writes them to
// /home/mecove/logs/*-out.log, the CloudWatch agent ships them).

export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function parseLevel(value: string | undefined): Level {
  const v = (value ?? "info").trim().toLowerCase();
  return v in ORDER ? (v as Level) : "info";
}

/** Turns an Error (or anything thrown) into plain JSON-friendly fields. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const out: Record<string, unknown> = { err: err.message, errName: err.name };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out.errCode = code;
    if (err.stack) out.stack = err.stack;
    return out;
  }
  return { err: String(err) };
}

export function createLogger(
  base: Record<string, unknown>,
  level: Level = "info",
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Logger {
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record = { time: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ time: record.time, level: lvl, msg, ...base, note: "unserialisable fields" });
    }
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
  };
}

/** Returns true the first time a message is seen since the last reset(). */
export function repeatFilter(): ((message: string) => boolean) & { reset(): void } {
  let last: string | undefined;
  const fn = ((message: string) => {
    if (message === last) return false;
    last = message;
    return true;
  }) as ((message: string) => boolean) & { reset(): void };
  fn.reset = () => {
    last = undefined;
  };
  return fn;
}
