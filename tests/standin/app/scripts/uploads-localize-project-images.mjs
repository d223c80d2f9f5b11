// `npm run uploads:localize-project-images [-- --apply] [--project <id>]`
// Downloads the remote (http/https) images of projects into projects/<id>/ and
// rewrites the projects' references. Dry-run unless --apply.
// Only hosts in LOCALIZE_ALLOWED_HOSTS are fetched (default: loopback names;
// "*" allows every host); others are reported and left as they are.

import fs from "node:fs";
import path from "node:path";
import { openPrisma, parseArgs, runScript, describeError, UsageError } from "./lib/cli.js";
import {
  absolutePath,
  extensionForMime,
  freeTarget,
  isRemoteUrl,
  projectImages,
  rewriteReferences,
  uploadUrl,
} from "./lib/uploads.js";

const MAX_BYTES = 20 * 1024 * 1024;

function allowedHosts(env = process.env) {
  const list = (env.LOCALIZE_ALLOWED_HOSTS ?? "127.0.0.1,localhost,::1")
    .split(",")
    .map((host) => host.trim().toLowerCase().replace(/^\[|\]$/g, ""))
    .filter(Boolean);
  return new Set(list);
}

function hostAllowed(url, hosts) {
  if (hosts.has("*")) return true;
  return hosts.has(new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, ""));
}

function targetName(url, index) {
  const base = decodeURIComponent(new URL(url).pathname.split("/").pop() || "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[.-]+/, "")
    .slice(0, 80);
  return base || `image-${index + 1}`;
}

async function download(url, timeoutMs) {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const type = response.headers.get("content-type") || "";
  if (!type.toLowerCase().startsWith("image/")) throw new Error(`not an image (content-type "${type}")`);
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length === 0) throw new Error("empty body");
  if (body.length > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
  return { body, type };
}

async function main() {
  const { options } = parseArgs(process.argv.slice(2), {
    flags: ["apply", "dry-run"],
    valueKeys: ["project", "timeout-ms"],
  });
  const apply = Boolean(options.apply) && !options["dry-run"];
  const timeoutMs = Number(options["timeout-ms"] ?? 10000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError("--timeout-ms must be a positive integer.");
  let projectId = null;
  if (options.project !== undefined) {
    if (!/^\d+$/.test(options.project)) throw new UsageError(`--project must be a project id, got "${options.project}".`);
    projectId = Number(options.project);
  }

  const prisma = await openPrisma();
  const projects = await prisma.project.findMany({
    where: projectId === null ? undefined : { id: projectId },
    orderBy: { id: "asc" },
  });
  if (projectId !== null && projects.length === 0) {
    console.error(`uploads:localize-project-images: project ${projectId} not found.`);
    return 1;
  }

  const hosts = allowedHosts();
  console.log(
    `uploads:localize-project-images (${apply ? "apply" : "dry-run"}${projectId === null ? "" : `, project ${projectId}`})`,
  );
  let planned = 0;
  let localized = 0;
  let skipped = 0;
  let failed = 0;
  for (const project of projects) {
    const remote = [...new Set(projectImages(project).filter(isRemoteUrl))];
    const rename = new Map();
    const reserved = new Set();
    for (const [index, url] of remote.entries()) {
      if (!hostAllowed(url, hosts)) {
        skipped += 1;
        console.log(`  skip     ${url} (project ${project.id}): host not in LOCALIZE_ALLOWED_HOSTS`);
        continue;
      }
      planned += 1;
      let name = targetName(url, index);
      if (!apply) {
        console.log(`  download ${url} -> /uploads/projects/${project.id}/${name} (project ${project.id})`);
        continue;
      }
      try {
        const { body, type } = await download(url, timeoutMs);
        if (!path.extname(name)) name += extensionForMime(type);
        let target = freeTarget(`projects/${project.id}/${name}`, null).rel;
        for (let n = 2; reserved.has(target); n += 1) target = freeTarget(`projects/${project.id}/${n}-${name}`, null).rel;
        reserved.add(target);
        fs.mkdirSync(path.dirname(absolutePath(target)), { recursive: true });
        fs.writeFileSync(absolutePath(target), body);
        rename.set(url, uploadUrl(target));
        localized += 1;
        console.log(`  saved    ${url} -> /uploads/${target} (${body.length} bytes)`);
      } catch (error) {
        failed += 1;
        console.log(`  FAILED   ${url} (project ${project.id}): ${describeError(error.cause ?? error)}`);
      }
    }
    if (rename.size > 0) await prisma.$transaction((tx) => rewriteReferences(tx, rename, { projectIds: [project.id] }));
  }

  if (planned === 0) {
    console.log(`Nothing to localize${skipped ? ` (${skipped} remote image(s) on hosts not allowed)` : ""}.`);
    return 0;
  }
  if (!apply) {
    console.log(`Summary: ${planned} remote image(s) to download, ${skipped} skipped.`);
    console.log("Dry-run only: run with --apply to download the images and rewrite the references.");
    return 0;
  }
  console.log(`Applied: ${localized} image(s) localized, ${failed} failed, ${skipped} skipped.`);
  return failed > 0 ? 1 : 0;
}

await runScript("uploads:localize-project-images", main);
