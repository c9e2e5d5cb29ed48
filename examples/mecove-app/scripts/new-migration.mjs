#!/usr/bin/env node
// Creates prisma/migrations/<UTC timestamp>_<name>/migration.sql.
//
//   pnpm run new-migration add_notes --sql 'ALTER TABLE "reports" ADD COLUMN "notes" TEXT;'
//   echo 'CREATE INDEX ...;' | pnpm run new-migration add_index
//   pnpm run new-migration broken_on_purpose --broken     # for deploy tests
//
// Normally you change prisma/schema.prisma and write the SQL that
// `pnpm exec prisma migrate diff --from-migrations prisma/migrations
//  --to-schema-datamodel prisma/schema.prisma --script` prints (needs a
// shadow database; see README). This helper only lays the file out with a
// name that sorts after the existing migrations.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = path.join(import.meta.dirname, "..", "prisma", "migrations");
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith("--") && args[args.indexOf(a) - 1] !== "--sql");
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: new-migration <name: [a-z0-9_]+> [--sql SQL | --broken]  (SQL on stdin otherwise)");
  process.exit(2);
}

let sql;
if (args.includes("--broken")) {
  // Valid first statement, invalid second one: shows that the migration runs
  // in one transaction (the table must NOT exist after the failure).
  sql = `-- Deliberately broken migration for deploy tests.\nCREATE TABLE "deploy_probe_${name}" ("id" INTEGER PRIMARY KEY);\nTHIS IS NOT SQL;\n`;
} else if (args.includes("--sql")) {
  sql = args[args.indexOf("--sql") + 1] + "\n";
} else {
  sql = readFileSync(0, "utf8");
}
if (!sql.trim()) {
  console.error("empty SQL");
  process.exit(2);
}

const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const last = readdirSync(dir).filter((d) => /^\d{14}_/.test(d)).sort().at(-1);
// Never sort before an existing migration, even with a skewed clock.
const ts = last && last.slice(0, 14) >= stamp ? String(BigInt(last.slice(0, 14)) + 1n) : stamp;
const target = path.join(dir, `${ts}_${name}`);
mkdirSync(target);
writeFileSync(path.join(target, "migration.sql"), sql);
console.log(path.relative(process.cwd(), path.join(target, "migration.sql")));
