// The checks behind /api/health and /api/health/ready.

import fs from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { pingDatabase } from "./db.js";
import { UPLOADS_DIR } from "./paths.js";
import { extraChecks } from "./extra-checks.js";

async function timed(name, run) {
  const started = performance.now();
  let result;
  try {
    result = await run();
  } catch (error) {
    result = { status: "critical", message: error?.message || String(error), meta: {} };
  }
  return { name, latencyMs: Math.round(performance.now() - started), meta: {}, ...result };
}

export function databaseCheck(prisma) {
  return timed("database", async () => {
    try {
      await pingDatabase(prisma);
      return { status: "ok", message: "Database reachable", meta: { dataSource: "db" } };
    } catch (error) {
      return {
        status: "critical",
        message: `Database unreachable: ${shortMessage(error)}`,
        meta: { dataSource: "db" },
      };
    }
  });
}

export function uploadsCheck(uploadsDir = UPLOADS_DIR) {
  return timed("uploads", async () => {
    try {
      const stat = await fs.stat(uploadsDir);
      if (!stat.isDirectory()) {
        return { status: "warning", message: "public/uploads is not a directory", meta: { path: uploadsDir } };
      }
      return { status: "ok", message: "Uploads directory present", meta: { path: uploadsDir } };
    } catch {
      return { status: "warning", message: "public/uploads is missing", meta: { path: uploadsDir } };
    }
  });
}

export function maintenanceCheck(maintenanceMode) {
  return timed("maintenance", async () =>
    maintenanceMode
      ? { status: "warning", message: "Maintenance mode is on: writes are refused", meta: { maintenanceMode: true } }
      : { status: "ok", message: "Maintenance mode is off", meta: { maintenanceMode: false } },
  );
}

export async function runChecks({ prisma, maintenanceMode }) {
  return Promise.all([
    databaseCheck(prisma),
    uploadsCheck(),
    maintenanceCheck(maintenanceMode),
    ...extraChecks.map((check) => timed(check.name, check.run)),
  ]);
}

function shortMessage(error) {
  return String(error?.message || error).split("\n").map((line) => line.trim()).filter(Boolean).pop() || "unknown error";
}
