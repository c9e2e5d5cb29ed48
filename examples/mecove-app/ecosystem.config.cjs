// PM2 process file for the meCove sample app (an example the deploy playbook
// can use or render its own from). Paths follow the architecture:
//   /home/mecove/app/current -> releases/<time>-<sha>   (atomic symlink)
//   /home/mecove/app/shared/.env, shared/reports        (kept across releases)
//   /home/mecove/logs/{api,worker}-{out,error}.log
//
// cwd and script are given under the `current` SYMLINK path (not a resolved
// release path) so that `pm2 reload` after a switch runs the new release.
// Every value can be overridden from the environment of `pm2 start`.
const path = require("node:path");

const appRoot = process.env.MECOVE_APP_ROOT || "/home/mecove/app";
const current = process.env.MECOVE_CURRENT || path.join(appRoot, "current");
const envFile = process.env.MECOVE_ENV_FILE || path.join(appRoot, "shared", ".env");
const logDir = process.env.MECOVE_LOG_DIR || "/home/mecove/logs";
const drainMs = Number(process.env.WORKER_DRAIN_TIMEOUT_MS || 30000);

// --env-file: node loads .env itself (PM2 does not read .env files).
const nodeArgs = ["--enable-source-maps", `--env-file=${envFile}`];

module.exports = {
  apps: [
    {
      name: "api",
      cwd: current,
      script: path.join(current, "dist/api/server.js"),
      node_args: nodeArgs,
      exec_mode: "cluster", // `pm2 reload api` is zero-downtime only in cluster mode
      instances: Number(process.env.MECOVE_API_INSTANCES || 2),
      wait_ready: true, // the app calls process.send("ready") once it listens
      listen_timeout: 15000, // ms PM2 waits for "ready" before giving up on it
      kill_timeout: 12000, // > SHUTDOWN_TIMEOUT_MS (10 s): let requests finish
      merge_logs: true,
      out_file: path.join(logDir, "api-out.log"),
      error_file: path.join(logDir, "api-error.log"),
      time: false, // the app's JSON lines carry their own timestamp
    },
    {
      name: "worker",
      cwd: current,
      script: path.join(current, "dist/worker/worker.js"),
      node_args: nodeArgs,
      exec_mode: "fork",
      instances: 1,
      wait_ready: true,
      listen_timeout: 15000,
      // SIGINT -> worker.close() drains in-flight jobs for up to
      // WORKER_DRAIN_TIMEOUT_MS; PM2 must not SIGKILL before that.
      kill_timeout: drainMs + 5000,
      // PM2 signals the whole process tree by default, which kills the
      // Chromium of an in-flight render at once (the job then fails and is
      // retried instead of finishing). Signal the worker only: it closes its
      // browsers itself, and on drain timeout it exits and puppeteer's exit
      // hook kills them.
      treekill: false,
      merge_logs: true,
      out_file: path.join(logDir, "worker-out.log"),
      error_file: path.join(logDir, "worker-error.log"),
      time: false,
    },
  ],
};
