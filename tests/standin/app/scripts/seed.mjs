// `npm run db:seed` (test support): rows and upload files laid out so that every
// data script has real work to do. Idempotent: rows are matched by username/slug
// and only created when missing; files are written only for rows created now.
//
// Remote project images point at SEED_REMOTE_BASE (default http://127.0.0.1:$PORT,
// PORT defaulting to 8080), where the app serves /fixtures/remote-images/<name>.png.

import "dotenv/config";
import fs from "node:fs";
import path from "node:path";
import { openPrisma, runScript } from "./lib/cli.js";
import { absolutePath, uploadRelPath, UPLOADS_DIR } from "./lib/uploads.js";
import { isLoopbackAddress } from "../server/health.js";
import { pngForName } from "../server/png.js";

function remoteBase(env = process.env) {
  const base = (env.SEED_REMOTE_BASE || `http://127.0.0.1:${env.PORT || 8080}`).replace(/\/+$/, "");
  const host = new URL(base).hostname;
  if (host !== "localhost" && !isLoopbackAddress(host)) {
    throw new Error(`SEED_REMOTE_BASE must point at a loopback address, got ${base}`);
  }
  return base;
}

function writeUpload(url, written) {
  const rel = uploadRelPath(url);
  if (!rel) return;
  const file = absolutePath(rel);
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, pngForName(rel));
  written.push(rel);
}

const USERS = [
  { username: "admin", displayName: "Administradora", avatarUrl: "/uploads/avatar-admin.png", permissions: ["admin"], roles: [] },
  {
    username: "editora",
    displayName: "Editora",
    avatarUrl: null,
    permissions: ["posts.create", "posts.edit", "uploads.manage"],
    roles: ["contributor"],
  },
  { username: "gerente", displayName: "Gerente de projetos", avatarUrl: "/uploads/users/gerente.png", permissions: ["projects.manage"], roles: [] },
  { username: "moderador", displayName: "Moderador", avatarUrl: null, permissions: ["comments.moderate", "legacy.flag"], roles: [] },
  { username: "leitor", displayName: "Leitor", avatarUrl: null, permissions: [], roles: [] },
];

function projectsFor(remote) {
  return [
    {
      slug: "projeto-aurora",
      title: "Projeto Aurora",
      description: "Capa em local legado, galeria com imagem compartilhada e remota.",
      coverImage: "/uploads/aurora-cover.png",
      gallery: ["/uploads/shared/banner-comum.png", "/uploads/arte-compartilhada.png", `${remote}/fixtures/remote-images/aurora-1.png`],
    },
    {
      slug: "projeto-boreal",
      title: "Projeto Boreal",
      description: "Capa em legacy/, duas imagens compartilhadas.",
      coverImage: "/uploads/legacy/boreal-cover.png",
      gallery: ["/uploads/shared/banner-comum.png", "/uploads/shared/logo-equipe.png"],
    },
    {
      slug: "projeto-cometa",
      title: "Projeto Cometa",
      description: "Capa remota.",
      coverImage: `${remote}/fixtures/remote-images/cometa-cover.png`,
      gallery: ["/uploads/shared/logo-equipe.png", `${remote}/fixtures/remote-images/cometa-1.png`],
    },
    {
      slug: "projeto-duna",
      title: "Projeto Duna",
      description: "Já organizado: nada a fazer.",
      coverImage: "/uploads/projects/{id}/duna-cover.png",
      gallery: [],
    },
  ];
}

const POSTS = [
  { slug: "boas-vindas", title: "Boas-vindas", body: "Primeiro post.", coverImage: "/uploads/post-capa-1.png", author: "admin" },
  {
    slug: "novidades-de-outubro",
    title: "Novidades de outubro",
    body: "Capa em legacy/.",
    coverImage: "/uploads/legacy/post-capa-2.png",
    author: "editora",
  },
  { slug: "arte-da-equipe", title: "Arte da equipe", body: "Imagem também usada por um projeto.", coverImage: "/uploads/arte-compartilhada.png", author: "editora" },
  { slug: "sem-imagem", title: "Sem imagem", body: "Post sem capa.", coverImage: null, author: null },
];

async function main() {
  const remote = remoteBase();
  const prisma = await openPrisma();
  fs.mkdirSync(UPLOADS_DIR, { recursive: true });
  const written = [];
  const created = { users: 0, projects: 0, posts: 0 };
  const userIds = {};

  for (const user of USERS) {
    let row = await prisma.user.findUnique({ where: { username: user.username } });
    if (!row) {
      row = await prisma.user.create({ data: user });
      created.users += 1;
      writeUpload(user.avatarUrl, written);
    }
    userIds[user.username] = row.id;
  }

  for (const project of projectsFor(remote)) {
    const existing = await prisma.project.findUnique({ where: { slug: project.slug } });
    if (existing) continue;
    let row = await prisma.project.create({ data: { ...project, coverImage: null } });
    const coverImage = project.coverImage.replace("{id}", String(row.id));
    row = await prisma.project.update({ where: { id: row.id }, data: { coverImage } });
    created.projects += 1;
    for (const url of [row.coverImage, ...row.gallery]) writeUpload(url, written);
  }

  for (const { author, ...post } of POSTS) {
    const existing = await prisma.post.findUnique({ where: { slug: post.slug } });
    if (existing) continue;
    await prisma.post.create({ data: { ...post, authorId: author ? userIds[author] : null } });
    created.posts += 1;
    writeUpload(post.coverImage, written);
  }

  if (created.users + created.projects + created.posts > 0) writeUpload("/uploads/orphan-antigo.png", written);

  const total = created.users + created.projects + created.posts;
  console.log(
    total === 0
      ? "Seed data already present: nothing to do."
      : `Seeded ${created.users} user(s), ${created.projects} project(s), ${created.posts} post(s); ` +
          `wrote ${written.length} file(s) under public/uploads (remote images at ${remote}).`,
  );
  for (const rel of written) console.log(`  + public/uploads/${rel}`);
  return 0;
}

await runScript("db:seed", main);
