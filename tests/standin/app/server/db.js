import { PrismaClient } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";

export function createPrisma(databaseUrl, { connectionTimeoutMillis = 3000 } = {}) {
  const adapter = new PrismaPg({ connectionString: databaseUrl, connectionTimeoutMillis });
  return new PrismaClient({ adapter });
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One round trip to the database; rejects when it is unreachable. */
export async function pingDatabase(prisma, timeoutMs = 2500) {
  await withTimeout(prisma.$queryRaw`SELECT 1`, timeoutMs, "Database ping");
}
