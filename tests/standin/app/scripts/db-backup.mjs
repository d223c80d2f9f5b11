// `npm run db:backup`
// JSON snapshot of the app's datasets plus a copy of public/uploads into
// backups/backup-<timestamp>/. Not a full database backup: no sessions, no
// migration history, and there is no restore script (a rollback needs pg_dump).

import fs from "node:fs";
import path from "node:path";
import { openPrisma, runScript, timestampId, parseArgs } from "./lib/cli.js";
import { BACKUPS_DIR, UPLOADS_DIR } from "../server/paths.js";
import { APP_VERSION } from "../server/version.js";

const DATASETS = {
  users: (prisma) => prisma.user.findMany({ orderBy: { id: "asc" } }),
  projects: (prisma) => prisma.project.findMany({ orderBy: { id: "asc" } }),
  posts: (prisma) => prisma.post.findMany({ orderBy: { id: "asc" } }),
  uploads: (prisma) => prisma.upload.findMany({ orderBy: { id: "asc" } }),
  audit_log: (prisma) => prisma.auditLog.findMany({ orderBy: { id: "asc" } }),
};

function copyTree(from, to) {
  let files = 0;
  let bytes = 0;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      const inner = copyTree(source, target);
      files += inner.files;
      bytes += inner.bytes;
    } else if (entry.isFile()) {
      fs.copyFileSync(source, target);
      files += 1;
      bytes += fs.statSync(target).size;
    }
  }
  return { files, bytes };
}

async function main() {
  parseArgs(process.argv.slice(2));
  const prisma = await openPrisma();
  const started = Date.now();
  const stamp = timestampId();
  let dir = path.join(BACKUPS_DIR, `backup-${stamp}`);
  for (let n = 2; fs.existsSync(dir); n += 1) dir = path.join(BACKUPS_DIR, `backup-${stamp}-${n}`);
  const staging = `${dir}.partial`;
  fs.mkdirSync(path.join(staging, "datasets"), { recursive: true });

  const counts = {};
  for (const [name, read] of Object.entries(DATASETS)) {
    const rows = await read(prisma);
    counts[name] = rows.length;
    fs.writeFileSync(path.join(staging, "datasets", `${name}.json`), `${JSON.stringify(rows, null, 2)}\n`);
  }
  const uploads = fs.existsSync(UPLOADS_DIR)
    ? copyTree(UPLOADS_DIR, path.join(staging, "uploads"))
    : { files: 0, bytes: 0, missing: true };
  const manifest = {
    createdAt: new Date().toISOString(),
    appVersion: APP_VERSION,
    datasets: counts,
    uploads,
  };
  fs.writeFileSync(path.join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(staging, dir);

  const relative = path.relative(path.dirname(BACKUPS_DIR), dir);
  console.log(`db:backup: wrote ${relative}/ in ${Date.now() - started} ms`);
  for (const [name, count] of Object.entries(counts)) console.log(`  ${name}: ${count} row(s)`);
  console.log(`  public/uploads copy: ${uploads.files} file(s), ${uploads.bytes} bytes${uploads.missing ? " (public/uploads missing)" : ""}`);
  return 0;
}

await runScript("db:backup", main);
