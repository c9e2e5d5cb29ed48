// The deploy's health gate (mecove.platform.app_deploy). Starts the API of a release that
// does not serve yet on a loopback port of its own, waits until its health endpoint answers
// 200 with status "ok" (and, when given, the expected release id), then stops it.
//
//   node check-release.mjs --dir <release> --script dist/api/server.js --env-file <.env>
//        --port 3100 [--path /health] [--expect-version <id>] [--timeout 120]
//        [--node-args '["--enable-source-maps"]']
//
// Prints one JSON line; exit 0 when the release is healthy, 1 otherwise (with the reason and
// the last lines the API printed). The env file is read by node itself (--env-file), never by
// this script; PORT and HOST given here win over it (node lets the environment win).
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

const argv = process.argv.slice(2);
const opts = { path: "/health", timeout: "120", nodeArgs: "[]" };
for (let i = 0; i < argv.length; i += 2) {
  const [key, value] = [argv[i], argv[i + 1]];
  if (value === undefined) usage(`${key} needs a value`);
  const name = key.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  opts[name] = value;
}
for (const required of ["dir", "script", "envFile", "port"]) {
  if (!opts[required]) usage(`--${required.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} is required`);
}
const port = Number(opts.port);
let nodeArgs;
try {
  nodeArgs = JSON.parse(opts.nodeArgs);
} catch {
  usage("--node-args must be a JSON list of strings");
}
const deadline = Date.now() + Number(opts.timeout) * 1000;

function usage(message) {
  console.error(JSON.stringify({ ok: false, error: `check-release: ${message}` }));
  process.exit(2);
}

function portInUse() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

if (await portInUse()) {
  usage(`127.0.0.1:${port} is already in use; app_deploy_check_port must be a free port`);
}

const output = [];
const keep = (chunk) => {
  output.push(...chunk.toString().split("\n").filter((line) => line.trim() !== ""));
  output.splice(0, Math.max(0, output.length - 20));
};
const child = spawn(
  process.execPath,
  [...nodeArgs, `--env-file=${opts.envFile}`, path.join(opts.dir, opts.script)],
  {
    cwd: opts.dir,
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  },
);
let exited = null;
child.stdout.on("data", keep);
child.stderr.on("data", keep);
child.on("exit", (code, signal) => {
  exited = { code, signal };
});

async function probe() {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${opts.path}`, { signal: AbortSignal.timeout(5000) });
    let body;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, error: err.cause?.code ?? err.message };
  }
}

async function stop() {
  if (exited) return;
  child.kill("SIGINT");
  const gone = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 15000);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!gone) child.kill("SIGKILL");
}

const started = Date.now();
let last = { status: 0, error: "not probed yet" };
let versionError = null;
while (Date.now() < deadline && !exited) {
  last = await probe();
  const healthy = last.status === 200 && last.body?.status === "ok";
  const rightVersion = !opts.expectVersion || last.body?.version === opts.expectVersion;
  if (healthy && rightVersion) {
    await stop();
    console.log(JSON.stringify({ ok: true, seconds: (Date.now() - started) / 1000, health: last.body }));
    process.exit(0);
  }
  if (healthy && !rightVersion) {
    versionError = `${opts.path} reports version ${last.body?.version}, expected ${opts.expectVersion}`;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
await stop();
let reason;
if (versionError) reason = versionError;
else if (exited) reason = `the API exited (code ${exited.code}, signal ${exited.signal}) before it was healthy`;
else if (last.status !== 0) reason = `${opts.path} still answered ${last.status} after ${opts.timeout} s`;
else reason = `${opts.path} did not answer within ${opts.timeout} s (${last.error})`;
console.log(
  JSON.stringify({
    ok: false,
    error: reason,
    seconds: (Date.now() - started) / 1000,
    last: { status: last.status, body: last.body ?? null },
    output,
  }),
);
process.exit(1);
