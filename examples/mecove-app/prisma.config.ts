// Prisma CLI configuration (read by `prisma generate` and `prisma migrate *`).
//
// Why this shape: the native schema engine of Prisma is fetched from
// binaries.prisma.sh at install/run time, which our build and CI machines
// cannot reach, and no npm package carries it. Prisma 6.19's CLI can instead
// run migrations on its JS engine through a driver adapter:
//   - `experimental.adapter` + `engine: "js"` + `adapter()` below;
//   - the adapter is @prisma/adapter-pg 7.10.1 (6.19.3's own adapter fails on
//     PostgreSQL catalog columns of type `name`: "Column type 'name' could not
//     be deserialized").
// The app itself reads only process.env. For convenience when the CLI is run
// by hand in a checkout, a ./.env file is loaded if DATABASE_URL is unset.
import { existsSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

if (!process.env.DATABASE_URL && existsSync(".env")) {
  process.loadEnvFile(".env");
}

// The CLI checks for its native engines at start-up and tries to download the
// missing ones. With engineType "client" and engine "js" neither is ever
// loaded, so point the check at a placeholder file (unless the caller
// provides real engines). See prisma/engines/NOT-AN-ENGINE.
const placeholder = path.resolve(__dirname, "prisma", "engines", "NOT-AN-ENGINE");
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= placeholder;
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= placeholder;

/**
 * @prisma/adapter-pg's executeScript() splits a migration on every ";" and
 * sends the pieces one by one through the pool: a migration that fails half
 * way leaves its first statements applied, and a ";" inside a string, a
 * comment or a $$ function body breaks the migration. This subclass sends
 * each migration.sql as ONE simple-protocol query instead; PostgreSQL runs a
 * multi-statement query as one implicit transaction, so a failing migration
 * changes nothing (Prisma still records it as failed in _prisma_migrations).
 */
class PrismaPgWholeScripts extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string) => {
      try {
        await pool.query(script);
      } catch (err) {
        // The adapter's own conversion, so Prisma reports the PostgreSQL error.
        (adapter as unknown as { onError(e: unknown): never }).onError(err);
      }
    };
    return adapter;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  async adapter() {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) {
      throw new Error("DATABASE_URL is not set (prisma migrate needs it)");
    }
    return new PrismaPgWholeScripts({ connectionString, max: 2, idleTimeoutMillis: 1000 });
  },
});
