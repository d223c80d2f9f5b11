import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../app/scripts/lib/args.js";
import { isLegacyLocation, uploadRelPath, uploadUrl } from "../app/scripts/lib/uploads.js";
import { renderPostsFeed, renderSitemap } from "../app/server/feeds.js";

test("script options: flags, --key=value, --key value; unknown options are refused", () => {
  const spec = { flags: ["apply"], valueKeys: ["project", "mode"] };
  assert.deepEqual(parseArgs(["--apply", "--project", "3", "--mode=deep"], spec).options, { apply: true, project: "3", mode: "deep" });
  assert.deepEqual(parseArgs([], spec).options, {});
  assert.throws(() => parseArgs(["--aply"], spec), UsageError);
  assert.throws(() => parseArgs(["--project"], spec), /needs a value/);
});

test("upload URLs map to safe relative paths; legacy locations", () => {
  assert.equal(uploadRelPath("/uploads/projects/3/a.png"), "projects/3/a.png");
  assert.equal(uploadRelPath("/uploads/a%20b.png"), "a b.png");
  assert.equal(uploadRelPath("/uploads/../etc/passwd"), null);
  assert.equal(uploadRelPath("http://127.0.0.1:8080/uploads/a.png"), null);
  assert.equal(uploadUrl("a b.png"), "/uploads/a%20b.png");
  assert.equal(isLegacyLocation("cover.png"), true);
  assert.equal(isLegacyLocation("legacy/cover.png"), true);
  assert.equal(isLegacyLocation("projects/cover.png"), false);
  assert.equal(isLegacyLocation("projects/3/cover.png"), false);
});

test("sitemap and feeds", () => {
  const when = new Date("2026-05-19T00:00:00Z");
  const sitemap = renderSitemap({ baseUrl: "https://nekomata.moe", posts: [{ slug: "a&b", updatedAt: when }], projects: [] });
  assert.match(sitemap, /<urlset/);
  assert.match(sitemap, /<loc>https:\/\/nekomata\.moe\/posts\/a&amp;b<\/loc>/);
  const feed = renderPostsFeed({ baseUrl: "https://nekomata.moe", posts: [{ slug: "x", title: "<T>", body: "b", publishedAt: when }] });
  assert.match(feed, /<rss version="2.0">/);
  assert.match(feed, /<title>&lt;T&gt;<\/title>/);
});
