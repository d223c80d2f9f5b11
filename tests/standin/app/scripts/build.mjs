// `npm run build`: writes the front end and dist/build-info.json.
// The commit comes from BUILD_COMMIT_SHA, else git (when the app directory is a
// work tree's top), else a REVISION file in the app directory (what a
// `git archive` export leaves); builtAt is the build time.

import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { APP_ROOT, DIST_DIR } from "../server/paths.js";
import { APP_VERSION } from "../server/version.js";
import { API_VERSION } from "../server/health.js";

const SHA_PATTERN = /^[0-9a-f]{7,64}$/i;

function commitFromGit() {
  // Only when the app directory is itself the top of a work tree (a release
  // exported with `git archive` may sit inside some unrelated repository).
  try {
    const run = (...args) =>
      execFileSync("git", ["-c", "safe.directory=*", ...args], {
        cwd: APP_ROOT,
        stdio: ["ignore", "pipe", "ignore"],
        encoding: "utf8",
      }).trim();
    if (fs.realpathSync(run("rev-parse", "--show-toplevel")) !== fs.realpathSync(APP_ROOT)) return null;
    const output = run("rev-parse", "HEAD");
    return SHA_PATTERN.test(output) ? output : null;
  } catch {
    return null;
  }
}

function commitFromRevisionFile() {
  try {
    const text = fs.readFileSync(path.join(APP_ROOT, "REVISION"), "utf8").trim();
    return SHA_PATTERN.test(text) ? text : null;
  } catch {
    return null;
  }
}

export function resolveCommit(env = process.env) {
  const fromEnv = (env.BUILD_COMMIT_SHA || "").trim();
  if (fromEnv) {
    if (!SHA_PATTERN.test(fromEnv)) throw new Error(`BUILD_COMMIT_SHA is not a commit id: "${fromEnv}"`);
    return { commitSha: fromEnv.toLowerCase(), source: "BUILD_COMMIT_SHA" };
  }
  const fromGit = commitFromGit();
  if (fromGit) return { commitSha: fromGit, source: "git" };
  const fromFile = commitFromRevisionFile();
  if (fromFile) return { commitSha: fromFile.toLowerCase(), source: "REVISION" };
  return { commitSha: null, source: "none" };
}

function hashed(content) {
  return crypto.createHash("sha256").update(content).digest("hex").slice(0, 10);
}

function indexHtml({ scriptName, styleName, commitSha }) {
  const shortSha = commitSha ? commitSha.slice(0, 12) : "unknown";
  return `<!doctype html>
<html lang="pt-BR" data-version="${APP_VERSION}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="app-version" content="${APP_VERSION}" />
    <meta name="app-commit" content="${commitSha ?? ""}" />
    <title>Nekomorto</title>
    <link rel="manifest" href="/manifest.webmanifest" />
    <link rel="alternate" type="application/rss+xml" title="Posts" href="/rss.xml" />
    <link rel="stylesheet" href="/assets/${styleName}" />
    <script type="module" src="/assets/${scriptName}"></script>
  </head>
  <body>
    <main id="app">
      <h1>Nekomorto</h1>
      <p id="app-version">Versão <strong>${APP_VERSION}</strong> (commit ${shortSha})</p>
      <ul id="posts"></ul>
    </main>
  </body>
</html>
`;
}

const SCRIPT = `const list = document.getElementById("posts");
fetch("/api/posts")
  .then((response) => response.json())
  .then(({ posts }) => {
    for (const post of posts) {
      const item = document.createElement("li");
      item.textContent = post.title;
      list.append(item);
    }
  })
  .catch(() => {});
`;

const STYLE = `body { font-family: system-ui, sans-serif; margin: 2rem; background: #101014; color: #eee; }
#app-version strong { color: #c4b5fd; }
`;

function main() {
  const started = Date.now();
  const { commitSha, source } = resolveCommit();
  const builtAt = new Date().toISOString();
  const scriptName = `app-${hashed(SCRIPT)}.js`;
  const styleName = `app-${hashed(STYLE)}.css`;

  const staging = `${DIST_DIR}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, "assets"), { recursive: true });
  fs.writeFileSync(path.join(staging, "assets", scriptName), SCRIPT);
  fs.writeFileSync(path.join(staging, "assets", styleName), STYLE);
  fs.writeFileSync(path.join(staging, "index.html"), indexHtml({ scriptName, styleName, commitSha }));
  fs.writeFileSync(
    path.join(staging, "build-info.json"),
    `${JSON.stringify({ version: APP_VERSION, apiVersion: API_VERSION, commitSha, commitSource: source, builtAt }, null, 2)}\n`,
  );
  fs.rmSync(DIST_DIR, { recursive: true, force: true });
  fs.renameSync(staging, DIST_DIR);

  console.log(
    `Built dist/ for ${APP_VERSION} (commit ${commitSha ?? "unknown"} from ${source}) in ${Date.now() - started} ms.`,
  );
}

main();
