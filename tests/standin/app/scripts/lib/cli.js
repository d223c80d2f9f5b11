// Shared plumbing of the ops scripts: arguments, DATABASE_URL, Prisma, exit codes.

import { UsageError } from "./args.js";

export { parseArgs, UsageError } from "./args.js";

/** The scripts' own wording when DATABASE_URL is missing. */
export function requireDatabaseUrl(env = process.env) {
  const value = env.DATABASE_URL;
  if (value === undefined || String(value).trim() === "") {
    console.error("DATABASE_URL obrigatoria.");
    process.exit(1);
  }
  return String(value).trim();
}

/** Checks DATABASE_URL before loading the Prisma client at all. */
export async function openPrisma() {
  const databaseUrl = requireDatabaseUrl();
  const { createPrisma } = await import("../../server/db.js");
  return createPrisma(databaseUrl);
}

/** Runs main(), prints failures as one clear line, and exits with its code. */
export async function runScript(name, main) {
  let code = 0;
  try {
    code = (await main()) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}`);
      code = 2;
    } else {
      console.error(`${name}: FAILED: ${describeError(error)}`);
      code = 1;
    }
  }
  process.exit(code);
}

export function describeError(error) {
  const lines = String(error?.message || error)
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1] : "unknown error";
}

export function timestampId(date = new Date()) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}
