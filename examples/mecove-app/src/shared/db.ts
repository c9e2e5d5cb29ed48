// Prisma Client over PostgreSQL through the pg driver adapter.
// The client is generated at build time (`prisma generate`, engineType
// "client"): queries are compiled by Prisma's WebAssembly query compiler and
// run by node-postgres, so no native engine has to be downloaded.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";

export type { Report, ReportStatus } from "@prisma/client";
export type Db = PrismaClient;

export function createDb(databaseUrl: string, opts: { poolMax?: number; appName?: string } = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: opts.poolMax ?? 5,
    application_name: opts.appName ?? "mecove-app",
    connectionTimeoutMillis: 5000,
  });
  return new PrismaClient({ adapter });
}

export async function pingDb(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
