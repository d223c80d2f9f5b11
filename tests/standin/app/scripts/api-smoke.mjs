// `npm run api:smoke -- --base=URL [--timeout-ms=10000]`
// Checks the public face of the app: health shapes as an outside caller sees
// them, the API contract, sitemap, feeds, the HTML shell, the manifest and a 404
// for a missing asset. Run against 127.0.0.1 from the app host it FAILS: a
// loopback caller gets the detailed health payload, which the smoke rejects.

import { parseArgs, runScript, UsageError } from "./lib/cli.js";
import { baseUrl, get, positiveInteger } from "./lib/http.js";

const sameKeys = (object, keys) =>
  object && typeof object === "object" && Object.keys(object).sort().join(",") === [...keys].sort().join(",");

const DETAIL_HINT = "detailed (loopback) payload: run the smoke from another host or through a proxy";

function publicBuild(body) {
  if (!sameKeys(body.build, ["apiVersion"])) return `build is ${JSON.stringify(body.build)}: ${DETAIL_HINT}`;
  if (body.build.apiVersion !== "v1") return `build.apiVersion is ${body.build.apiVersion}`;
  return null;
}

function healthHeaders(answer) {
  if (answer.headers.get("x-api-version") !== "v1") return "missing X-API-Version: v1";
  if (!/no-store/.test(answer.headers.get("cache-control") || "")) return "missing Cache-Control: no-store";
  if (!answer.headers.get("x-request-id")) return "missing X-Request-Id";
  return null;
}

const CHECKS = [
  {
    path: "/api/health/live",
    verify: (answer) => {
      const body = answer.json;
      if (answer.status !== 200) return `HTTP ${answer.status}`;
      if (!body || body.ok !== true || body.status !== "ok" || typeof body.ts !== "string") return "unexpected live payload";
      return healthHeaders(answer) || publicBuild(body);
    },
  },
  ...["/api/health/ready", "/api/health"].map((path) => ({
    path,
    verify: (answer) => {
      const body = answer.json;
      if (answer.status !== 200) return `HTTP ${answer.status}${body?.status ? ` (status ${body.status})` : ""}`;
      if (!body || !["ok", "degraded"].includes(body.status)) return `status is ${body?.status}`;
      if (body.dataSource !== "db") return `dataSource is ${body.dataSource}`;
      if (typeof body.maintenanceMode !== "boolean") return "maintenanceMode missing";
      if (!Array.isArray(body.checks) || !body.summary) return "checks/summary missing";
      const detailed = body.checks.find((check) => !sameKeys(check, ["name", "status", "latencyMs"]));
      if (detailed) return `check ${detailed.name} carries ${Object.keys(detailed).join(",")}: ${DETAIL_HINT}`;
      return healthHeaders(answer) || publicBuild(body);
    },
  })),
  {
    path: "/api/contracts/v1.json",
    verify: (answer) =>
      answer.status !== 200
        ? `HTTP ${answer.status}`
        : answer.json?.version !== "v1" || !Array.isArray(answer.json?.endpoints)
          ? "not a v1 contract (version/endpoints)"
          : null,
  },
  { path: "/sitemap.xml", verify: (answer) => (answer.status !== 200 ? `HTTP ${answer.status}` : /<urlset/.test(answer.text) ? null : "no <urlset>") },
  { path: "/rss.xml", verify: (answer) => (answer.status !== 200 ? `HTTP ${answer.status}` : /<rss/.test(answer.text) ? null : "no <rss>") },
  { path: "/projects/rss.xml", verify: (answer) => (answer.status !== 200 ? `HTTP ${answer.status}` : /<rss/.test(answer.text) ? null : "no <rss>") },
  { path: "/", verify: (answer) => (answer.status !== 200 ? `HTTP ${answer.status}` : /<html/i.test(answer.text) ? null : "no <html>") },
  {
    path: "/manifest.webmanifest",
    verify: (answer) =>
      answer.status !== 200 ? `HTTP ${answer.status}` : typeof answer.json?.name === "string" ? null : "no name in manifest",
  },
  { path: "/assets/__smoke_missing__.js", verify: (answer) => (answer.status === 404 ? null : `expected 404, got ${answer.status}`) },
];

async function main() {
  const { options } = parseArgs(process.argv.slice(2), { valueKeys: ["base", "timeout-ms"] });
  let base;
  let timeoutMs;
  try {
    base = baseUrl(options.base);
    timeoutMs = positiveInteger(options["timeout-ms"], "--timeout-ms", 10000);
  } catch (error) {
    throw new UsageError(error.message);
  }
  console.log(`api:smoke against ${base}`);
  let failures = 0;
  for (const check of CHECKS) {
    const answer = await get(`${base}${check.path}`, { timeoutMs });
    const problem = answer.status === 0 ? `no answer (${answer.error})` : check.verify(answer);
    if (problem) failures += 1;
    console.log(`  ${problem ? "FAIL" : "PASS"} GET ${check.path} (${answer.status || "-"}, ${answer.ms} ms)${problem ? `: ${problem}` : ""}`);
  }
  console.log(failures ? `FAIL: ${failures} of ${CHECKS.length} checks failed.` : `OK: all ${CHECKS.length} checks passed.`);
  return failures ? 1 : 0;
}

await runScript("api:smoke", main);
