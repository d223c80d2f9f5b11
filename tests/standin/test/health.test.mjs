import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildLivePayload,
  buildReadyPayload,
  isLoopbackAddress,
  isLoopbackCaller,
  overallStatus,
  presentedHealthToken,
  wantsDetail,
} from "../app/server/health.js";

const BUILD = { commitSha: "0123456789abcdef0123456789abcdef01234567", builtAt: "2026-05-19T00:00:00.000Z" };
const NOW = new Date("2026-05-19T12:00:00.000Z");
const check = (name, status) => ({ name, status, latencyMs: 3, message: `${name} ${status}`, meta: { x: 1 } });

test("overall status: critical -> fail, warning -> degraded, else ok", () => {
  assert.equal(overallStatus([check("database", "ok"), check("uploads", "ok")]), "ok");
  assert.equal(overallStatus([check("database", "ok"), check("maintenance", "warning")]), "degraded");
  assert.equal(overallStatus([check("database", "critical"), check("maintenance", "warning")]), "fail");
});

test("ready payload, detailed: every field, 503 when a check is critical", () => {
  const { httpStatus, payload } = buildReadyPayload({
    checks: [check("database", "critical"), check("uploads", "warning")],
    maintenanceMode: false,
    buildInfo: BUILD,
    detailed: true,
    now: NOW,
  });
  assert.equal(httpStatus, 503);
  assert.deepEqual(payload, {
    ok: false,
    status: "fail",
    ts: "2026-05-19T12:00:00.000Z",
    dataSource: "db",
    maintenanceMode: false,
    checks: [
      { name: "database", status: "critical", latencyMs: 3, message: "database critical", meta: { x: 1 } },
      { name: "uploads", status: "warning", latencyMs: 3, message: "uploads warning", meta: { x: 1 } },
    ],
    summary: { total: 2, ok: 0, warning: 1, critical: 1 },
    build: { apiVersion: "v1", commitSha: BUILD.commitSha, builtAt: BUILD.builtAt },
  });
});

test("ready payload, public: checks reduced to name/status/latencyMs, build to apiVersion", () => {
  const { httpStatus, payload } = buildReadyPayload({
    checks: [check("database", "ok"), check("maintenance", "warning")],
    maintenanceMode: true,
    buildInfo: BUILD,
    detailed: false,
    now: NOW,
  });
  assert.equal(httpStatus, 200);
  assert.equal(payload.status, "degraded");
  assert.equal(payload.ok, true);
  assert.equal(payload.maintenanceMode, true);
  assert.equal(payload.dataSource, "db");
  assert.deepEqual(payload.checks, [
    { name: "database", status: "ok", latencyMs: 3 },
    { name: "maintenance", status: "warning", latencyMs: 3 },
  ]);
  assert.deepEqual(payload.build, { apiVersion: "v1" });
});

test("live payload never depends on checks", () => {
  assert.deepEqual(buildLivePayload({ buildInfo: BUILD, detailed: false, now: NOW }), {
    ok: true,
    status: "ok",
    ts: "2026-05-19T12:00:00.000Z",
    build: { apiVersion: "v1" },
  });
  assert.deepEqual(buildLivePayload({ buildInfo: { commitSha: null, builtAt: null }, detailed: true, now: NOW }).build, {
    apiVersion: "v1",
    commitSha: null,
    builtAt: null,
  });
});

test("loopback addresses", () => {
  for (const address of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1", "[::1]:80", "127.0.0.1:5555"]) {
    assert.equal(isLoopbackAddress(address), true, address);
  }
  for (const address of ["10.0.0.1", "203.0.113.5", "::ffff:10.0.0.1", "2001:db8::1", "localhost", "", undefined, "unknown"]) {
    assert.equal(isLoopbackAddress(address), false, String(address));
  }
});

test("a loopback caller has a loopback peer and only loopback X-Forwarded-For entries", () => {
  assert.equal(isLoopbackCaller("127.0.0.1", undefined), true);
  assert.equal(isLoopbackCaller("::ffff:127.0.0.1", "127.0.0.1"), true);
  assert.equal(isLoopbackCaller("127.0.0.1", "203.0.113.9"), false);
  assert.equal(isLoopbackCaller("127.0.0.1", "127.0.0.1, 198.51.100.7"), false);
  assert.equal(isLoopbackCaller("198.51.100.7", undefined), false);
});

test("operational token: Bearer or X-Operational-Health-Token unlocks the detail", () => {
  assert.equal(presentedHealthToken({ authorization: "Bearer abc" }), "abc");
  assert.equal(presentedHealthToken({ "x-operational-health-token": "xyz" }), "xyz");
  assert.equal(presentedHealthToken({ authorization: "Basic abc" }), null);
  const outside = { "x-forwarded-for": "203.0.113.9" };
  assert.equal(wantsDetail({ remoteAddress: "127.0.0.1", headers: outside, token: "t0k" }), false);
  assert.equal(wantsDetail({ remoteAddress: "127.0.0.1", headers: { ...outside, authorization: "Bearer t0k" }, token: "t0k" }), true);
  assert.equal(
    wantsDetail({ remoteAddress: "198.51.100.7", headers: { "x-operational-health-token": "t0k" }, token: "t0k" }),
    true,
  );
  assert.equal(wantsDetail({ remoteAddress: "198.51.100.7", headers: { authorization: "Bearer nope" }, token: "t0k" }), false);
  assert.equal(wantsDetail({ remoteAddress: "198.51.100.7", headers: { authorization: "Bearer " }, token: null }), false);
  assert.equal(wantsDetail({ remoteAddress: "127.0.0.1", headers: {}, token: null }), true);
});
