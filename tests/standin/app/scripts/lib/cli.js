// Shared plumbing of the ops scripts: arguments, DATABASE_URL, Prisma, exit codes.

import { createPrisma } from "../../server/db.js";

/**
 * `--flag`, `--key=value` and `--key value` (the latter only for keys listed in
 * valueKeys). Unknown options are an error so a typo never runs a real apply.
 */
export function parseArgs(argv, { flags = [], valueKeys = [] } = {}) {
  const options = {};
  const positional = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const equals = body.indexOf("=");
    const key = equals === -1 ? body : body.slice(0, equals);
    if (valueKeys.includes(key)) {
      if (equals !== -1) options[key] = body.slice(equals + 1);
      else if (index + 1 < argv.length && !argv[index + 1].startsWith("--")) options[key] = argv[++index];
      else throw new UsageError(`--${key} needs a value.`);
    } else if (flags.includes(key)) {
      if (equals === -1) options[key] = true;
      else {
        const value = body.slice(equals + 1).toLowerCase();
        if (!["true", "false", "1", "0", "yes", "no"].includes(value)) throw new UsageError(`--${key} takes no value.`);
        options[key] = ["true", "1", "yes"].includes(value);
      }
    } else {
      throw new UsageError(`Unknown option --${key}.`);
    }
  }
  return { options, positional };
}

export class UsageError extends Error {}

/** The scripts' own wording when DATABASE_URL is missing. */
export function requireDatabaseUrl(env = process.env) {
  const value = env.DATABASE_URL;
  if (value === undefined || String(value).trim() === "") {
    console.error("DATABASE_URL obrigatoria.");
    process.exit(1);
  }
  return String(value).trim();
}

export function openPrisma() {
  return createPrisma(requireDatabaseUrl());
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
