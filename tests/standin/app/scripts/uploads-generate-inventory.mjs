// `npm run uploads:generate-inventory`
// Rebuilds the uploads table from the files under public/uploads: one INSERT per
// file, in path order, outside any transaction. There is no dry-run and it is
// NOT idempotent: a file that already has a row stops the run with Prisma's
// "Unique constraint failed on the fields: (`url`)", leaving the rows written
// before it in place.

import fs from "node:fs";
import path from "node:path";
import { openPrisma, runScript, describeError, parseArgs } from "./lib/cli.js";
import { absolutePath, listUploadFiles, mimeTypeFor, sha256File, uploadUrl, UPLOADS_DIR } from "./lib/uploads.js";

async function main() {
  parseArgs(process.argv.slice(2));
  const prisma = await openPrisma();
  if (!fs.existsSync(UPLOADS_DIR)) {
    console.error("uploads:generate-inventory: public/uploads not found.");
    return 1;
  }
  const files = listUploadFiles();
  console.log(`uploads:generate-inventory: ${files.length} file(s) under public/uploads`);
  let inserted = 0;
  for (const rel of files) {
    const full = absolutePath(rel);
    try {
      await prisma.upload.create({
        data: {
          url: uploadUrl(rel),
          path: rel,
          fileName: path.posix.basename(rel),
          mimeType: mimeTypeFor(rel),
          sizeBytes: fs.statSync(full).size,
          sha256: sha256File(full),
        },
      });
    } catch (error) {
      console.error(`uploads:generate-inventory: FAILED at ${uploadUrl(rel)}: ${describeError(error)}`);
      console.error(`${inserted} row(s) inserted before the failure were kept.`);
      return 1;
    }
    inserted += 1;
    console.log(`  + ${uploadUrl(rel)}`);
  }
  console.log(`Inventory: ${inserted} row(s) inserted.`);
  return 0;
}

await runScript("uploads:generate-inventory", main);
