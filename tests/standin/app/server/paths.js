import path from "node:path";
import { fileURLToPath } from "node:url";

export const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DIST_DIR = path.join(APP_ROOT, "dist");
export const PUBLIC_DIR = path.join(APP_ROOT, "public");
export const UPLOADS_DIR = path.join(PUBLIC_DIR, "uploads");
export const BACKUPS_DIR = path.join(APP_ROOT, "backups");
