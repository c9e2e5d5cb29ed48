#!/usr/bin/env node
// Marks a failed migration as rolled back, like
// `prisma migrate resolve --rolled-back <name>` (which needs Prisma's native
// schema engine and so cannot run on our machines).
//
//   pnpm run migrate:resolve 20261125083723_broken_probe
//   pnpm run migrate:resolve --all-failed
//
// Safe because this app applies every migration.sql in ONE transaction
// (prisma.config.ts): a failed migration left nothing behind. Only rows that
// failed (finished_at IS NULL) and are not yet rolled back are touched.
import { existsSync } from "node:fs";
import pg from "pg";

if (!process.env.DATABASE_URL && existsSync(".env")) process.loadEnvFile(".env");
const url = process.env.DATABASE_URL;
const arg = process.argv[2];
if (!url || !arg) {
  console.error("usage: migrate-resolve <migration_name> | --all-failed   (DATABASE_URL from env or ./.env)");
  process.exit(2);
}

const client = new pg.Client({ connectionString: url, application_name: "mecove-migrate-resolve" });
await client.connect();
try {
  const where = arg === "--all-failed" ? "" : "AND migration_name = $1";
  const params = arg === "--all-failed" ? [] : [arg];
  const { rows } = await client.query(
    `UPDATE _prisma_migrations SET rolled_back_at = now()
      WHERE finished_at IS NULL AND rolled_back_at IS NULL ${where}
      RETURNING migration_name`,
    params,
  );
  if (rows.length === 0) {
    console.log("no failed migration to resolve");
  } else {
    for (const r of rows) console.log(`marked as rolled back: ${r.migration_name}`);
  }
} finally {
  await client.end();
}
