// Health payloads. Pure: the route handlers gather check results and pass them here.

import net from "node:net";

export const API_VERSION = "v1";

/** Worst check status wins: any critical -> fail, any warning -> degraded. */
export function overallStatus(checks) {
  if (checks.some((check) => check.status === "critical")) return "fail";
  if (checks.some((check) => check.status === "warning")) return "degraded";
  return "ok";
}

export function summarize(checks) {
  const summary = { total: checks.length, ok: 0, warning: 0, critical: 0 };
  for (const check of checks) {
    if (check.status in summary) summary[check.status] += 1;
  }
  return summary;
}

export function buildBlock(buildInfo, detailed) {
  if (!detailed) return { apiVersion: API_VERSION };
  return {
    apiVersion: API_VERSION,
    commitSha: buildInfo?.commitSha ?? null,
    builtAt: buildInfo?.builtAt ?? null,
  };
}

/** Payload of /api/health/live: never depends on the database. */
export function buildLivePayload({ buildInfo, detailed, now = new Date() }) {
  return { ok: true, status: "ok", ts: now.toISOString(), build: buildBlock(buildInfo, detailed) };
}

/**
 * Payload and HTTP status of /api/health and /api/health/ready.
 * checks: [{name, status: ok|warning|critical, latencyMs, message, meta}]
 */
export function buildReadyPayload({ checks, maintenanceMode, buildInfo, detailed, now = new Date() }) {
  const status = overallStatus(checks);
  const payload = {
    ok: status !== "fail",
    status,
    ts: now.toISOString(),
    dataSource: "db",
    maintenanceMode: Boolean(maintenanceMode),
    checks: checks.map((check) =>
      detailed
        ? {
            name: check.name,
            status: check.status,
            latencyMs: check.latencyMs,
            message: check.message ?? "",
            meta: check.meta ?? {},
          }
        : { name: check.name, status: check.status, latencyMs: check.latencyMs },
    ),
    summary: summarize(checks),
    build: buildBlock(buildInfo, detailed),
  };
  return { httpStatus: status === "fail" ? 503 : 200, payload };
}

export function isLoopbackAddress(address) {
  if (!address) return false;
  let text = String(address).trim();
  if (text.startsWith("[") && text.includes("]")) text = text.slice(1, text.indexOf("]"));
  const hostPort = text.match(/^(\d+\.\d+\.\d+\.\d+):\d+$/);
  if (hostPort) text = hostPort[1];
  if (net.isIPv4(text)) return text.startsWith("127.");
  if (!net.isIPv6(text)) return false;
  // Canonical form: "0:0::1" -> "::1", "::ffff:127.0.0.1" -> "::ffff:7f00:1".
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  if (canonical === "::1") return true;
  const mapped = canonical.match(/^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/);
  return Boolean(mapped) && (parseInt(mapped[1], 16) >> 8) === 127;
}

/**
 * A caller is loopback when the socket peer is loopback and every address in
 * X-Forwarded-For (if any) is loopback too.
 */
export function isLoopbackCaller(remoteAddress, forwardedFor) {
  if (!isLoopbackAddress(remoteAddress)) return false;
  if (forwardedFor === undefined || forwardedFor === null) return true;
  const values = Array.isArray(forwardedFor) ? forwardedFor : [forwardedFor];
  const entries = values
    .flatMap((value) => String(value).split(","))
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.every((entry) => isLoopbackAddress(entry));
}

/** Token from `Authorization: Bearer <t>` or `X-Operational-Health-Token: <t>`. */
export function presentedHealthToken(headers) {
  const direct = headers["x-operational-health-token"];
  if (typeof direct === "string" && direct.trim()) return direct.trim();
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = authorization.match(/^Bearer\s+(.+)$/i);
    if (match) return match[1].trim();
  }
  return null;
}

export function tokensMatch(expected, presented) {
  if (!expected || !presented) return false;
  const a = Buffer.from(String(expected));
  const b = Buffer.from(String(presented));
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** Detailed payload for loopback callers and holders of the operational token. */
export function wantsDetail({ remoteAddress, headers, token }) {
  if (isLoopbackCaller(remoteAddress, headers["x-forwarded-for"])) return true;
  return tokensMatch(token, presentedHealthToken(headers));
}
