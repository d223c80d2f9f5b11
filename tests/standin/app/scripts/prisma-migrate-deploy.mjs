// `npm run prisma:migrate:deploy`: `prisma migrate deploy`, retried while the
// database is unreachable (PRISMA_MIGRATE_MAX_ATTEMPTS x PRISMA_MIGRATE_RETRY_DELAY_MS,
// defaulting to DB_STARTUP_MAX_ATTEMPTS x DB_STARTUP_RETRY_DELAY_MS, i.e. 10 x 3000 ms).
// Any other failure (a failed migration, P3009, ...) stops at once with Prisma's exit code.

import "dotenv/config";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { requireDatabaseUrl } from "./lib/cli.js";
import { APP_ROOT } from "../server/paths.js";

const UNREACHABLE = /P1001|P1002|P1017|Can't reach database server|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection terminated|the database system is starting up/i;

function setting(primary, fallback, defaultValue) {
  const raw = process.env[primary] ?? process.env[fallback];
  if (raw === undefined || raw === "") return defaultValue;
  if (!/^\d+$/.test(raw)) {
    console.error(`prisma:migrate:deploy: ${process.env[primary] !== undefined ? primary : fallback} must be an integer.`);
    process.exit(2);
  }
  return Number(raw);
}

function runDeploy(cli) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "migrate", "deploy"], { cwd: APP_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
      process.stderr.write(chunk);
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

requireDatabaseUrl();
const attempts = setting("PRISMA_MIGRATE_MAX_ATTEMPTS", "DB_STARTUP_MAX_ATTEMPTS", 10);
const delayMs = setting("PRISMA_MIGRATE_RETRY_DELAY_MS", "DB_STARTUP_RETRY_DELAY_MS", 3000);
const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");

for (let attempt = 1; ; attempt += 1) {
  const { code, output } = await runDeploy(cli);
  if (code === 0) process.exit(0);
  if (!UNREACHABLE.test(output) || attempt >= Math.max(attempts, 1)) {
    if (UNREACHABLE.test(output)) console.error(`prisma:migrate:deploy: database still unreachable after ${attempt} attempt(s).`);
    process.exit(code);
  }
  console.error(`prisma:migrate:deploy: database unreachable (attempt ${attempt}/${attempts}); retrying in ${delayMs} ms.`);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
}
