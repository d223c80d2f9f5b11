// `npm run uploads:reorganize [-- --apply]`
// Moves referenced files out of legacy locations (top of public/uploads, legacy/)
// into "<area>/<file>" and rewrites every reference. Dry-run unless --apply.
// Idempotent: once nothing is left in a legacy location, a run changes nothing.

import fs from "node:fs";
import path from "node:path";
import { openPrisma, parseArgs, runScript } from "./lib/cli.js";
import {
  absolutePath,
  collectReferences,
  fileExists,
  freeTarget,
  isLegacyLocation,
  rewriteReferences,
  uploadRelPath,
  uploadUrl,
} from "./lib/uploads.js";

const AREA_BY_KIND = { project: "projects", post: "posts", user: "users" };
const KIND_PRIORITY = ["project", "post", "user"];

function planReorganize(references) {
  const byFile = new Map();
  for (const reference of references) {
    const rel = uploadRelPath(reference.url);
    if (!rel || !isLegacyLocation(rel)) continue;
    if (!byFile.has(rel)) byFile.set(rel, { from: rel, urls: new Set(), kinds: new Set(), references: 0 });
    const entry = byFile.get(rel);
    entry.urls.add(reference.url);
    entry.kinds.add(reference.kind);
    entry.references += 1;
  }
  const plan = [];
  for (const entry of [...byFile.values()].sort((a, b) => a.from.localeCompare(b.from))) {
    const kind = KIND_PRIORITY.find((candidate) => entry.kinds.has(candidate));
    const wanted = `${AREA_BY_KIND[kind]}/${path.posix.basename(entry.from)}`;
    if (fileExists(entry.from)) {
      const target = freeTarget(wanted, entry.from);
      plan.push({ ...entry, to: target.rel, action: target.reuse ? "dedupe" : "move" });
    } else if (fileExists(wanted)) {
      // Moved by an earlier run that stopped before rewriting the database.
      plan.push({ ...entry, to: wanted, action: "rewrite" });
    } else {
      plan.push({ ...entry, to: null, action: "missing" });
    }
  }
  return plan;
}

async function main() {
  const { options } = parseArgs(process.argv.slice(2), { flags: ["apply", "dry-run"] });
  const apply = Boolean(options.apply) && !options["dry-run"];
  const prisma = await openPrisma();
  const plan = planReorganize(await collectReferences(prisma));

  console.log(`uploads:reorganize (${apply ? "apply" : "dry-run"})`);
  const actionable = plan.filter((item) => item.action !== "missing");
  for (const item of plan) {
    const refs = `${item.references} reference${item.references === 1 ? "" : "s"}`;
    if (item.action === "missing") console.log(`  missing  /uploads/${item.from} (${refs}): file not found, left as is`);
    else console.log(`  ${item.action.padEnd(8)} /uploads/${item.from} -> /uploads/${item.to} (${refs})`);
  }
  const references = actionable.reduce((sum, item) => sum + item.references, 0);
  const missing = plan.length - actionable.length;
  if (actionable.length === 0) {
    console.log(`Nothing to reorganize${missing ? ` (${missing} referenced file(s) missing)` : ""}.`);
    return 0;
  }
  console.log(`Summary: ${actionable.length} file(s) to relocate, ${references} reference(s) to rewrite, ${missing} missing.`);
  if (!apply) {
    console.log("Dry-run only: run with --apply to move the files and rewrite the references.");
    return 0;
  }

  for (const item of actionable) {
    if (item.action !== "move") continue;
    fs.mkdirSync(path.dirname(absolutePath(item.to)), { recursive: true });
    fs.renameSync(absolutePath(item.from), absolutePath(item.to));
  }

  const rename = new Map();
  for (const item of actionable) for (const url of item.urls) rename.set(url, uploadUrl(item.to));
  const rowsChanged = await prisma.$transaction(async (tx) => {
    const changed = await rewriteReferences(tx, rename);
    for (const item of actionable) {
      const oldUrl = uploadUrl(item.from);
      const newUrl = uploadUrl(item.to);
      const existing = await tx.upload.findUnique({ where: { url: newUrl } });
      if (existing) await tx.upload.deleteMany({ where: { url: oldUrl } });
      else await tx.upload.updateMany({ where: { url: oldUrl }, data: { url: newUrl, path: item.to, fileName: path.posix.basename(item.to) } });
    }
    return changed;
  }, { timeout: 60_000 });

  for (const item of actionable) {
    if (item.action === "dedupe" && fileExists(item.from)) fs.rmSync(absolutePath(item.from));
  }
  console.log(`Applied: ${actionable.length} file(s) relocated, ${rowsChanged} row(s) updated.`);
  return 0;
}

await runScript("uploads:reorganize", main);
