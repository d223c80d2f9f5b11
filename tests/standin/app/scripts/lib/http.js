// HTTP helpers of api:health:check and api:smoke.

import { performance } from "node:perf_hooks";

export function baseUrl(value, env = process.env) {
  const base = value || `http://127.0.0.1:${env.PORT || 8080}`;
  let url;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--base is not an absolute URL: "${base}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--base must be http(s): "${base}"`);
  return base.replace(/\/+$/, "");
}

export function positiveInteger(value, name, fallback) {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(String(value)) || Number(value) <= 0) throw new Error(`${name} must be a positive integer.`);
  return Number(value);
}

/** GET with a timeout; never throws: {ok, status, headers, text, json, ms, error}. */
export async function get(url, { timeoutMs, headers = {} }) {
  const started = performance.now();
  try {
    const response = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const reason = error?.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : error?.cause?.message || error?.message;
    return { status: 0, error: reason, ms: Math.round(performance.now() - started) };
  }
}
