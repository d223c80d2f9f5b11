// Where uploads live and who points at them.
//
// Files are under public/uploads and referenced from the database as
// "/uploads/<relative path>". The canonical layout is "<area>/<file>"
// (area: projects, posts, users, shared) or "projects/<id>/<file>".
// Files at the top of public/uploads or under legacy/ are in a legacy location.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UPLOADS_DIR } from "../../server/paths.js";

export const URL_PREFIX = "/uploads/";
export { UPLOADS_DIR };

const MIME_TYPES = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".txt": "text/plain",
};

export function mimeTypeFor(fileName) {
  return MIME_TYPES[path.extname(fileName).toLowerCase()] || "application/octet-stream";
}

export function extensionForMime(mimeType) {
  const clean = String(mimeType || "").split(";")[0].trim().toLowerCase();
  const entry = Object.entries(MIME_TYPES).find(([, type]) => type === clean);
  return entry ? entry[0] : "";
}

export function isRemoteUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value);
}

/** "/uploads/a/b.png" -> "a/b.png"; null for anything that is not a safe local upload URL. */
export function uploadRelPath(url) {
  if (typeof url !== "string" || !url.startsWith(URL_PREFIX)) return null;
  let relative;
  try {
    relative = decodeURIComponent(url.slice(URL_PREFIX.length).split(/[?#]/)[0]);
  } catch {
    return null;
  }
  const normalized = path.posix.normalize(relative);
  if (!normalized || normalized === "." || normalized.startsWith("..") || path.posix.isAbsolute(normalized)) return null;
  return normalized;
}

export function uploadUrl(relPath) {
  return URL_PREFIX + relPath.split("/").map(encodeURIComponent).join("/");
}

export function absolutePath(relPath) {
  return path.join(UPLOADS_DIR, ...relPath.split("/"));
}

export function isLegacyLocation(relPath) {
  return !relPath.includes("/") || relPath.startsWith("legacy/");
}

export function fileExists(relPath) {
  try {
    return fs.statSync(absolutePath(relPath)).isFile();
  } catch {
    return false;
  }
}

export function sha256File(filePath) {
  return crypto.createHash("sha256").update(fs.readFileSync(filePath)).digest("hex");
}

export function sameContent(relA, relB) {
  return sha256File(absolutePath(relA)) === sha256File(absolutePath(relB));
}

/** "dir/name.png" -> first of dir/name.png, dir/name-2.png, ... that is free (or holds the same bytes as sourceRel). */
export function freeTarget(targetRel, sourceRel) {
  const { dir, name, ext } = path.posix.parse(targetRel);
  for (let n = 1; n < 1000; n += 1) {
    const candidate = path.posix.join(dir, n === 1 ? `${name}${ext}` : `${name}-${n}${ext}`);
    if (!fileExists(candidate)) return { rel: candidate, reuse: false };
    if (sourceRel && fileExists(sourceRel) && sameContent(candidate, sourceRel)) return { rel: candidate, reuse: true };
  }
  throw new Error(`No free name for ${targetRel}`);
}

/** Every regular file under public/uploads (dot files skipped), sorted. */
export function listUploadFiles(root = UPLOADS_DIR) {
  const files = [];
  const walk = (dir, prefix) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, rel);
      else if (entry.isFile()) files.push(rel);
    }
  };
  walk(root, "");
  return files.sort();
}

export function projectImages(project) {
  const gallery = Array.isArray(project.gallery) ? project.gallery : [];
  return [project.coverImage, ...gallery].filter((value) => typeof value === "string" && value.length > 0);
}

/**
 * Every image reference in the database:
 * [{kind: "project"|"post"|"user", id, field: "coverImage"|"gallery"|"avatarUrl", url}]
 */
export async function collectReferences(prisma) {
  const [projects, posts, users] = await Promise.all([
    prisma.project.findMany({ select: { id: true, coverImage: true, gallery: true }, orderBy: { id: "asc" } }),
    prisma.post.findMany({ select: { id: true, coverImage: true }, orderBy: { id: "asc" } }),
    prisma.user.findMany({ select: { id: true, avatarUrl: true }, orderBy: { id: "asc" } }),
  ]);
  const references = [];
  for (const project of projects) {
    if (project.coverImage) references.push({ kind: "project", id: project.id, field: "coverImage", url: project.coverImage });
    for (const url of Array.isArray(project.gallery) ? project.gallery : []) {
      if (typeof url === "string") references.push({ kind: "project", id: project.id, field: "gallery", url });
    }
  }
  for (const post of posts) {
    if (post.coverImage) references.push({ kind: "post", id: post.id, field: "coverImage", url: post.coverImage });
  }
  for (const user of users) {
    if (user.avatarUrl) references.push({ kind: "user", id: user.id, field: "avatarUrl", url: user.avatarUrl });
  }
  return references;
}

/**
 * Rewrites URLs everywhere they are referenced. `rename` maps old URL -> new URL.
 * Returns the number of rows changed. Runs inside the given transaction client.
 */
export async function rewriteReferences(tx, rename, { projectIds = null } = {}) {
  const swap = (url) => (typeof url === "string" && rename.has(url) ? rename.get(url) : url);
  let rowsChanged = 0;

  const projects = await tx.project.findMany({
    where: projectIds ? { id: { in: projectIds } } : undefined,
    select: { id: true, coverImage: true, gallery: true },
  });
  for (const project of projects) {
    const gallery = Array.isArray(project.gallery) ? project.gallery : [];
    const coverImage = swap(project.coverImage);
    const newGallery = gallery.map(swap);
    if (coverImage !== project.coverImage || newGallery.some((url, i) => url !== gallery[i])) {
      await tx.project.update({ where: { id: project.id }, data: { coverImage, gallery: newGallery } });
      rowsChanged += 1;
    }
  }
  if (projectIds) return rowsChanged;

  const posts = await tx.post.findMany({ select: { id: true, coverImage: true } });
  for (const post of posts) {
    const coverImage = swap(post.coverImage);
    if (coverImage !== post.coverImage) {
      await tx.post.update({ where: { id: post.id }, data: { coverImage } });
      rowsChanged += 1;
    }
  }
  const users = await tx.user.findMany({ select: { id: true, avatarUrl: true } });
  for (const user of users) {
    const avatarUrl = swap(user.avatarUrl);
    if (avatarUrl !== user.avatarUrl) {
      await tx.user.update({ where: { id: user.id }, data: { avatarUrl } });
      rowsChanged += 1;
    }
  }
  return rowsChanged;
}
