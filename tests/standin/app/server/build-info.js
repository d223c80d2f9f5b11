import fs from "node:fs";
import path from "node:path";
import { DIST_DIR } from "./paths.js";

/** What `npm run build` recorded in dist/build-info.json (nulls when not built). */
export function readBuildInfo(distDir = DIST_DIR) {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(distDir, "build-info.json"), "utf8"));
    return {
      version: info.version ?? null,
      commitSha: info.commitSha ?? null,
      builtAt: info.builtAt ?? null,
      present: true,
    };
  } catch {
    return { version: null, commitSha: null, builtAt: null, present: false };
  }
}
