import "dotenv/config";
import { loadConfig } from "./config.js";

// Throws (exit 1, nothing listening) on a missing DATABASE_URL or a bad production env,
// before anything else is loaded.
const config = loadConfig(process.env);

const { createPrisma, pingDatabase } = await import("./db.js");
const { readBuildInfo } = await import("./build-info.js");
const { createApp } = await import("./app.js");
const { APP_VERSION } = await import("./version.js");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForDatabase(prisma) {
  const attempts = config.dbStartupMaxAttempts;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      await pingDatabase(prisma, 5000);
      return;
    } catch (error) {
      const reason = String(error?.message || error).split("\n").map((line) => line.trim()).filter(Boolean).pop();
      console.error(`[boot] database not reachable (attempt ${attempt}/${attempts}): ${reason}`);
      if (attempt < attempts) await sleep(config.dbStartupRetryDelayMs);
    }
  }
  console.error(`[boot] giving up: database unreachable after ${attempts} attempts.`);
  process.exit(1);
}

const prisma = createPrisma(config.databaseUrl);
await waitForDatabase(prisma);

const buildInfo = readBuildInfo();
if (!buildInfo.present) console.warn("[boot] dist/build-info.json not found: run npm run build.");
const app = createApp({ config, prisma, buildInfo });

// The real app needs 1.5-2.6 s from start to its first healthy answer.
const elapsedMs = process.uptime() * 1000;
if (elapsedMs < config.minBootMs) await sleep(config.minBootMs - elapsedMs);

const server = app.listen(config.port, () => {
  console.log(
    `[boot] nekomorto ${APP_VERSION} (commit ${buildInfo.commitSha ?? "unknown"}) listening on port ${config.port}` +
      ` (${config.nodeEnv}, maintenance ${config.maintenanceMode ? "on" : "off"}, session table ${config.sessionTable})` +
      ` after ${Math.round(process.uptime() * 1000)} ms`,
  );
});
server.on("error", (error) => {
  console.error(`[boot] cannot listen on port ${config.port}: ${error.message}`);
  process.exit(1);
});
