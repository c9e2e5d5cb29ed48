// Unit tests for the /health decision, the report view and the JSON logger.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { healthResponse, shortError } from "../dist/shared/health.js";
import { createLogger, errorFields, repeatFilter } from "../dist/shared/log.js";
import { reportView } from "../dist/shared/report-view.js";

const OK = { ok: true };
const down = (error) => ({ ok: false, error });

describe("healthResponse", () => {
  it("is 200 with db/redis ok and the version", () => {
    assert.deepEqual(healthResponse(OK, OK, "r1"), {
      statusCode: 200,
      body: { status: "ok", db: "ok", redis: "ok", version: "r1" },
    });
  });

  it("is 503 and names the failing dependency", () => {
    const { statusCode, body } = healthResponse(down("refused"), OK, "r1");
    assert.equal(statusCode, 503);
    assert.deepEqual(body, { status: "error", db: "error", redis: "ok", version: "r1" });
    assert.equal(healthResponse(OK, down("x"), "r1").body.redis, "error");
  });

  it("adds error texts only when asked (not in production)", () => {
    const { body } = healthResponse(down("db gone"), down("redis gone"), "r1", { details: true });
    assert.deepEqual(body.errors, { db: "db gone", redis: "redis gone" });
  });
});

describe("shortError", () => {
  it("keeps the meaningful last line of Prisma's multi-line errors", () => {
    const msg = "\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Message: `Can't reach database server`";
    assert.equal(shortError(msg), "Raw query failed. Message: `Can't reach database server`");
    assert.equal(shortError("plain"), "plain");
  });
});

describe("reportView", () => {
  const row = {
    id: "id1", title: "T", lines: ["a"], status: "queued", attempts: 0, error: null,
    pdfPath: null, pdfBytes: null, renderMs: null,
    createdAt: new Date("2026-01-01T00:00:00Z"), updatedAt: new Date("2026-01-01T00:00:01Z"), completedAt: null,
  };
  it("has no pdf until done", () => {
    assert.equal(reportView(row).pdf, null);
    assert.equal(reportView({ ...row, status: "failed", pdfPath: "/x.pdf" }).pdf, null);
  });
  it("shows the pdf path and size when done", () => {
    const v = reportView({ ...row, status: "done", pdfPath: "/r/id1.pdf", pdfBytes: 1234, renderMs: 500, completedAt: new Date("2026-01-01T00:00:02Z") });
    assert.deepEqual(v.pdf, { path: "/r/id1.pdf", size: 1234, renderMs: 500 });
    assert.equal(v.completedAt, "2026-01-01T00:00:02.000Z");
  });
});

describe("logger", () => {
  it("writes one JSON object per line with base fields, honouring the level", () => {
    const lines = [];
    const log = createLogger({ svc: "api" }, "info", (l) => lines.push(l));
    log.debug("hidden");
    log.info("hello", { n: 1 });
    log.child({ reqId: "r" }).warn("careful");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]);
    assert.equal(first.level, "info");
    assert.equal(first.msg, "hello");
    assert.equal(first.svc, "api");
    assert.equal(first.n, 1);
    assert.ok(!Number.isNaN(Date.parse(first.time)));
    assert.equal(JSON.parse(lines[1]).reqId, "r");
  });

  it("survives unserialisable fields", () => {
    const lines = [];
    const log = createLogger({}, "info", (l) => lines.push(l));
    log.info("big", { n: 10n });
    assert.equal(JSON.parse(lines[0]).note, "unserialisable fields");
  });

  it("turns errors into fields", () => {
    const e = Object.assign(new Error("boom"), { code: "ECONNREFUSED" });
    const f = errorFields(e);
    assert.equal(f.err, "boom");
    assert.equal(f.errCode, "ECONNREFUSED");
    assert.deepEqual(errorFields("str"), { err: "str" });
  });

  it("repeatFilter passes each distinct message once until reset", () => {
    const once = repeatFilter();
    assert.deepEqual([once("a"), once("a"), once("b"), once("a")], [true, false, true, true]);
    once.reset();
    assert.equal(once("a"), true);
  });
});
