// `npm run uploads:isolate-project-images [-- --apply]`
// A project image is shared when another project (or a post or user) references
// the same file. Each project using a shared file gets its own copy under
// projects/<id>/ and its references rewritten; the original file stays.
// Dry-run unless --apply; idempotent (no shared file left -> nothing to do).

import fs from "node:fs";
import path from "node:path";
import { openPrisma, parseArgs, runScript } from "./lib/cli.js";
import {
  absolutePath,
  collectReferences,
  fileExists,
  freeTarget,
  rewriteReferences,
  uploadRelPath,
  uploadUrl,
} from "./lib/uploads.js";

function planIsolation(references) {
  const usersOf = new Map(); // rel -> Set("project:1", "post:3", ...)
  for (const reference of references) {
    const rel = uploadRelPath(reference.url);
    if (!rel) continue;
    if (!usersOf.has(rel)) usersOf.set(rel, new Set());
    usersOf.get(rel).add(`${reference.kind}:${reference.id}`);
  }
  const plan = [];
  const seen = new Set();
  for (const reference of references) {
    if (reference.kind !== "project") continue;
    const rel = uploadRelPath(reference.url);
    if (!rel) continue;
    const key = `${reference.id}:${rel}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const owner = `projects/${reference.id}/`;
    const holders = [...usersOf.get(rel)];
    if (rel.startsWith(owner) || holders.length < 2) continue;
    const others = holders.filter((holder) => holder !== `project:${reference.id}`);
    plan.push({ projectId: reference.id, url: reference.url, from: rel, sharedWith: others });
  }
  return plan;
}

async function main() {
  const { options } = parseArgs(process.argv.slice(2), { flags: ["apply", "dry-run"] });
  const apply = Boolean(options.apply) && !options["dry-run"];
  const prisma = await openPrisma();
  const plan = planIsolation(await collectReferences(prisma));

  console.log(`uploads:isolate-project-images (${apply ? "apply" : "dry-run"})`);
  const missing = plan.filter((item) => !fileExists(item.from));
  const actionable = plan.filter((item) => fileExists(item.from));
  for (const item of actionable) {
    item.to = freeTarget(`projects/${item.projectId}/${path.posix.basename(item.from)}`, item.from);
    console.log(
      `  copy     /uploads/${item.from} -> /uploads/${item.to.rel} (project ${item.projectId}; shared with ${item.sharedWith.join(", ")})`,
    );
  }
  for (const item of missing) console.log(`  missing  /uploads/${item.from} (project ${item.projectId}): file not found, left as is`);

  if (actionable.length === 0) {
    console.log(`Nothing to isolate${missing.length ? ` (${missing.length} referenced file(s) missing)` : ""}.`);
    return 0;
  }
  const projects = new Set(actionable.map((item) => item.projectId));
  console.log(`Summary: ${actionable.length} copy(ies) for ${projects.size} project(s), ${missing.length} missing.`);
  if (!apply) {
    console.log("Dry-run only: run with --apply to copy the files and rewrite the projects' references.");
    return 0;
  }

  let rowsChanged = 0;
  for (const projectId of projects) {
    const items = actionable.filter((item) => item.projectId === projectId);
    const rename = new Map();
    for (const item of items) {
      if (!item.to.reuse) {
        fs.mkdirSync(path.dirname(absolutePath(item.to.rel)), { recursive: true });
        fs.copyFileSync(absolutePath(item.from), absolutePath(item.to.rel), fs.constants.COPYFILE_EXCL);
      }
      rename.set(item.url, uploadUrl(item.to.rel));
    }
    rowsChanged += await prisma.$transaction((tx) => rewriteReferences(tx, rename, { projectIds: [projectId] }));
  }
  console.log(`Applied: ${actionable.length} file(s) copied, ${rowsChanged} project(s) updated.`);
  return 0;
}

await runScript("uploads:isolate-project-images", main);
