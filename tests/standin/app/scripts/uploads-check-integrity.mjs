// `npm run uploads:check-integrity [-- --mode=fast|deep]`
// fast: every upload referenced from the database exists and is not in a legacy
//       location (exit 1 while `uploads:reorganize` still has work).
// deep: fast + every row of the uploads inventory matches its file (size, sha256);
//       files missing from a non-empty inventory are reported as warnings.

import fs from "node:fs";
import { openPrisma, parseArgs, runScript, UsageError } from "./lib/cli.js";
import {
  absolutePath,
  collectReferences,
  fileExists,
  isLegacyLocation,
  listUploadFiles,
  sha256File,
  uploadRelPath,
  UPLOADS_DIR,
} from "./lib/uploads.js";

async function main() {
  const { options } = parseArgs(process.argv.slice(2), { valueKeys: ["mode"] });
  const mode = options.mode ?? "fast";
  if (!["fast", "deep"].includes(mode)) throw new UsageError(`--mode must be fast or deep, got "${mode}".`);
  const prisma = await openPrisma();
  const errors = [];
  const warnings = [];

  if (!fs.existsSync(UPLOADS_DIR)) warnings.push("public/uploads does not exist");

  const references = await collectReferences(prisma);
  const local = references.filter((reference) => uploadRelPath(reference.url));
  let legacy = 0;
  let missing = 0;
  for (const reference of local) {
    const rel = uploadRelPath(reference.url);
    const where = `${reference.kind} ${reference.id} ${reference.field}`;
    if (!fileExists(rel)) {
      missing += 1;
      errors.push(`missing file: ${reference.url} (${where})`);
    } else if (isLegacyLocation(rel)) {
      legacy += 1;
      errors.push(`needs reorganizing: ${reference.url} (${where})`);
    }
  }
  const remote = references.length - local.length;

  let inventoryLine = "";
  if (mode === "deep") {
    const rows = await prisma.upload.findMany({ orderBy: { url: "asc" } });
    const inventoried = new Set();
    let mismatched = 0;
    for (const row of rows) {
      const rel = uploadRelPath(row.url);
      inventoried.add(rel);
      if (!rel || !fileExists(rel)) {
        mismatched += 1;
        errors.push(`inventory row without file: ${row.url}`);
        continue;
      }
      const size = fs.statSync(absolutePath(rel)).size;
      if (size !== row.sizeBytes || sha256File(absolutePath(rel)) !== row.sha256) {
        mismatched += 1;
        errors.push(`inventory mismatch: ${row.url} (size or sha256 differs from the file)`);
      }
    }
    const files = fs.existsSync(UPLOADS_DIR) ? listUploadFiles() : [];
    const untracked = rows.length === 0 ? [] : files.filter((rel) => !inventoried.has(rel));
    for (const rel of untracked) warnings.push(`file not in inventory: /uploads/${rel}`);
    if (rows.length === 0) warnings.push("uploads inventory is empty (npm run uploads:generate-inventory builds it)");
    inventoryLine = `, ${rows.length} inventory row(s) (${mismatched} mismatched), ${files.length} file(s) on disk`;
  }

  for (const line of errors) console.log(`  ERROR ${line}`);
  for (const line of warnings) console.log(`  WARN  ${line}`);
  console.log(
    `uploads:check-integrity (${mode}): ${local.length} local reference(s), ${remote} remote, ` +
      `${legacy} need reorganizing, ${missing} missing${inventoryLine}.`,
  );
  if (errors.length > 0) {
    if (legacy > 0) console.log("FAIL: run `npm run uploads:reorganize -- --apply` first.");
    else console.log("FAIL");
    return 1;
  }
  console.log("OK");
  return 0;
}

await runScript("uploads:check-integrity", main);
