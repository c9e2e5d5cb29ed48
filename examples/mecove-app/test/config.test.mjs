// Unit tests for configuration parsing from an env object.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConfigError,
  DEFAULT_PUPPETEER_ARGS,
  loadApiConfig,
  loadWorkerConfig,
  defaultRelease,
  splitArgs,
} from "../dist/shared/config.js";

const DB = "postgresql://mecove:pw@127.0.0.1:5432/mecove";

describe("loadApiConfig", () => {
  it("applies defaults: 127.0.0.1:3000, local Redis, package version", () => {
    const c = loadApiConfig({ DATABASE_URL: DB });
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.port, 3000);
    assert.equal(c.redisUrl, "redis://127.0.0.1:6379");
    assert.equal(c.queueName, "reports");
    assert.equal(c.release, defaultRelease());
    assert.match(c.release, /^\d+\.\d+\.\d+/);
    assert.equal(c.jobAttempts, 3);
  });

  it("reads HOST, PORT, REDIS_URL and APP_RELEASE", () => {
    const c = loadApiConfig({
      DATABASE_URL: DB,
      HOST: "0.0.0.0",
      PORT: "3107",
      REDIS_URL: "redis://127.0.0.1:6390/2",
      APP_RELEASE: "20260301T101500Z-abc1234",
    });
    assert.deepEqual([c.host, c.port, c.redisUrl, c.release], ["0.0.0.0", 3107, "redis://127.0.0.1:6390/2", "20260301T101500Z-abc1234"]);
  });

  it("requires DATABASE_URL and checks its scheme", () => {
    assert.throws(() => loadApiConfig({}), (e) => e instanceof ConfigError && /DATABASE_URL is required/.test(e.message));
    assert.throws(() => loadApiConfig({ DATABASE_URL: "   " }), /DATABASE_URL is required/);
    assert.throws(() => loadApiConfig({ DATABASE_URL: "mysql://x@y/z" }), /must use postgres: or postgresql:/);
    assert.throws(() => loadApiConfig({ DATABASE_URL: "not a url" }), /not a valid URL/);
  });

  it("never puts the database password in an error message", () => {
    try {
      loadApiConfig({ DATABASE_URL: "mysql://u:s3cret@h/d" });
      assert.fail("should throw");
    } catch (e) {
      assert.ok(!String(e.message).includes("s3cret"));
    }
  });

  it("rejects bad numbers", () => {
    assert.throws(() => loadApiConfig({ DATABASE_URL: DB, PORT: "80a" }), /PORT must be an integer/);
    assert.throws(() => loadApiConfig({ DATABASE_URL: DB, PORT: "70000" }), /PORT must be between 0 and 65535/);
    assert.throws(() => loadApiConfig({ DATABASE_URL: DB, REDIS_URL: "http://x" }), /REDIS_URL must use redis: or rediss:/);
  });
});

describe("loadWorkerConfig", () => {
  it("defaults to production Chromium flags, /usr/bin/chromium and the shared reports dir", () => {
    const c = loadWorkerConfig({ DATABASE_URL: DB });
    assert.deepEqual(c.chromiumArgs, ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]);
    assert.deepEqual(c.chromiumArgs, DEFAULT_PUPPETEER_ARGS);
    assert.equal(c.chromiumPath, "/usr/bin/chromium");
    assert.equal(c.reportsDir, "/home/mecove/app/shared/reports");
    assert.equal(c.drainTimeoutMs, 30000);
    assert.equal(c.concurrency, 1);
  });

  it("appends PUPPETEER_EXTRA_ARGS (emulation flags) without duplicates", () => {
    const c = loadWorkerConfig({ DATABASE_URL: DB, PUPPETEER_EXTRA_ARGS: "  --no-zygote   --in-process-gpu --no-sandbox " });
    assert.deepEqual(c.chromiumArgs, ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-zygote", "--in-process-gpu"]);
  });

  it("lets PUPPETEER_ARGS replace the base flags (empty = none)", () => {
    assert.deepEqual(loadWorkerConfig({ DATABASE_URL: DB, PUPPETEER_ARGS: "--disable-gpu" }).chromiumArgs, ["--disable-gpu"]);
    assert.deepEqual(loadWorkerConfig({ DATABASE_URL: DB, PUPPETEER_ARGS: "" }).chromiumArgs, []);
  });

  it("reads paths and timeouts", () => {
    const c = loadWorkerConfig({
      DATABASE_URL: DB,
      PUPPETEER_EXECUTABLE_PATH: "/usr/lib64/chromium-browser/chromium-browser",
      REPORTS_DIR: "/tmp/r/../reports",
      WORKER_DRAIN_TIMEOUT_MS: "0",
      WORKER_CONCURRENCY: "2",
    });
    assert.equal(c.chromiumPath, "/usr/lib64/chromium-browser/chromium-browser");
    assert.equal(c.reportsDir, "/tmp/reports");
    assert.equal(c.drainTimeoutMs, 0);
    assert.equal(c.concurrency, 2);
    assert.throws(() => loadWorkerConfig({ DATABASE_URL: DB, WORKER_CONCURRENCY: "0" }), /between 1 and 16/);
  });
});

describe("splitArgs", () => {
  it("splits on any whitespace and drops empties", () => {
    assert.deepEqual(splitArgs(" a\tb  c\n"), ["a", "b", "c"]);
    assert.deepEqual(splitArgs(undefined), []);
  });
});
