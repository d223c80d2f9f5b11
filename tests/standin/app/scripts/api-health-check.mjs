// `npm run api:health:check -- --base=URL [--path=/api/health] [--expect-source=db]
//    [--expect-maintenance=true|false] [--health-token=T] [--timeout-ms=10000]`
// Exit 1 on a non-2xx answer or a source/maintenance mismatch; "degraded" passes.

import { parseArgs, runScript, UsageError } from "./lib/cli.js";
import { baseUrl, get, positiveInteger } from "./lib/http.js";

async function main() {
  const { options } = parseArgs(process.argv.slice(2), {
    valueKeys: ["base", "path", "expect-source", "expect-maintenance", "health-token", "timeout-ms"],
  });
  let base;
  let timeoutMs;
  try {
    base = baseUrl(options.base);
    timeoutMs = positiveInteger(options["timeout-ms"], "--timeout-ms", 10000);
  } catch (error) {
    throw new UsageError(error.message);
  }
  const healthPath = options.path || "/api/health";
  let expectMaintenance = null;
  if (options["expect-maintenance"] !== undefined) {
    const word = options["expect-maintenance"].toLowerCase();
    if (word !== "true" && word !== "false") throw new UsageError("--expect-maintenance must be true or false.");
    expectMaintenance = word === "true";
  }
  const token = options["health-token"] || process.env.OPERATIONAL_HEALTH_TOKEN || "";
  const url = `${base}${healthPath.startsWith("/") ? "" : "/"}${healthPath}`;
  const headers = token ? { Authorization: `Bearer ${token}` } : {};

  const answer = await get(url, { timeoutMs, headers });
  const problems = [];
  if (answer.status === 0) {
    console.log(`api:health:check GET ${url} -> no answer (${answer.error})`);
    console.log("FAIL");
    return 1;
  }
  console.log(`api:health:check GET ${url} -> HTTP ${answer.status} in ${answer.ms} ms`);
  const body = answer.json;
  if (answer.status < 200 || answer.status > 299) problems.push(`HTTP ${answer.status}`);
  if (!body || typeof body !== "object") {
    problems.push("answer is not JSON");
  } else {
    console.log(
      `  status=${body.status} ok=${body.ok} dataSource=${body.dataSource ?? "-"} maintenanceMode=${body.maintenanceMode ?? "-"}`,
    );
    if (Array.isArray(body.checks)) {
      console.log(`  checks: ${body.checks.map((check) => `${check.name}=${check.status}`).join(" ")}`);
    }
    if (body.build) console.log(`  build: ${JSON.stringify(body.build)}`);
    if (options["expect-source"] !== undefined && body.dataSource !== options["expect-source"]) {
      problems.push(`expected dataSource=${options["expect-source"]}, got ${body.dataSource ?? "none"}`);
    }
    if (expectMaintenance !== null && body.maintenanceMode !== expectMaintenance) {
      problems.push(`expected maintenanceMode=${expectMaintenance}, got ${body.maintenanceMode ?? "none"}`);
    }
    if (body.status === "fail") problems.push("status is fail");
  }
  if (problems.length) {
    console.log(`FAIL: ${problems.join("; ")}`);
    return 1;
  }
  console.log("OK");
  return 0;
}

await runScript("api:health:check", main);
