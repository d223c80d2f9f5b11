// The JSON API: a few reads and writes, enough for maintenance mode to refuse something.

import express from "express";
import { projectInclude, projectWhere, publicProject } from "./project-view.js";

export const API_ENDPOINTS = [
  { method: "GET", path: "/api/health/live" },
  { method: "GET", path: "/api/health" },
  { method: "GET", path: "/api/health/ready" },
  { method: "GET", path: "/api/version" },
  { method: "GET", path: "/api/contracts/v1.json" },
  { method: "GET", path: "/api/session" },
  { method: "GET", path: "/api/posts" },
  { method: "POST", path: "/api/posts" },
  { method: "GET", path: "/api/posts/:id" },
  { method: "PUT", path: "/api/posts/:id" },
  { method: "PATCH", path: "/api/posts/:id" },
  { method: "DELETE", path: "/api/posts/:id" },
  { method: "GET", path: "/api/projects" },
  { method: "GET", path: "/api/projects/:id" },
];

export function publicPost(post) {
  return {
    id: post.id,
    slug: post.slug,
    title: post.title,
    body: post.body,
    coverImage: post.coverImage,
    authorId: post.authorId,
    publishedAt: post.publishedAt,
    updatedAt: post.updatedAt,
  };
}

function slugify(text) {
  const base = String(text)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return base || "post";
}

function parseId(value) {
  return /^\d{1,9}$/.test(String(value)) ? Number(value) : null;
}

function postFields(body, { partial }) {
  const fields = {};
  const errors = [];
  if (body === null || typeof body !== "object" || Array.isArray(body)) return { errors: ["body must be a JSON object"] };
  if ("title" in body || !partial) {
    if (typeof body.title !== "string" || !body.title.trim()) errors.push("title is required");
    else fields.title = body.title.trim();
  }
  if ("body" in body) {
    if (typeof body.body !== "string") errors.push("body must be a string");
    else fields.body = body.body;
  }
  if ("coverImage" in body) {
    if (body.coverImage !== null && typeof body.coverImage !== "string") errors.push("coverImage must be a string");
    else fields.coverImage = body.coverImage;
  }
  return { fields, errors };
}

export function createApiRouter({ prisma }) {
  const router = express.Router();
  const wrap = (handler) => (req, res, next) => Promise.resolve(handler(req, res)).catch(next);

  router.get(
    "/posts",
    wrap(async (req, res) => {
      const posts = await prisma.post.findMany({ orderBy: { publishedAt: "desc" }, take: 100 });
      res.json({ posts: posts.map(publicPost) });
    }),
  );

  router.post(
    "/posts",
    wrap(async (req, res) => {
      const { fields, errors } = postFields(req.body ?? {}, { partial: false });
      if (errors.length) {
        res.status(400).json({ error: "validation_failed", details: errors });
        return;
      }
      const slug = `${slugify(fields.title)}-${Date.now().toString(36)}`;
      const post = await prisma.post.create({ data: { ...fields, slug } });
      res.status(201).json({ post: publicPost(post) });
    }),
  );

  router.get(
    "/posts/:id",
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const post = id === null ? null : await prisma.post.findUnique({ where: { id } });
      if (!post) {
        res.status(404).json({ error: "not_found" });
        return;
      }
      res.json({ post: publicPost(post) });
    }),
  );

  const update = (partial) =>
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const { fields, errors } = postFields(req.body ?? {}, { partial });
      if (errors.length) {
        res.status(400).json({ error: "validation_failed", details: errors });
        return;
      }
      const existing = id === null ? null : await prisma.post.findUnique({ where: { id } });
      if (!existing) {
        res.status(404).json({ error: "not_found" });
        return;
      }
      const post = await prisma.post.update({ where: { id }, data: fields });
      res.json({ post: publicPost(post) });
    });
  router.put("/posts/:id", update(false));
  router.patch("/posts/:id", update(true));

  router.delete(
    "/posts/:id",
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const result = id === null ? { count: 0 } : await prisma.post.deleteMany({ where: { id } });
      if (result.count === 0) {
        res.status(404).json({ error: "not_found" });
        return;
      }
      res.status(204).end();
    }),
  );

  router.get(
    "/projects",
    wrap(async (req, res) => {
      const projects = await prisma.project.findMany({
        where: projectWhere(req.query),
        include: projectInclude,
        orderBy: { id: "asc" },
        take: 100,
      });
      res.json({ projects: projects.map(publicProject) });
    }),
  );

  router.get(
    "/projects/:id",
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const project = id === null ? null : await prisma.project.findUnique({ where: { id }, include: projectInclude });
      if (!project) {
        res.status(404).json({ error: "not_found" });
        return;
      }
      res.json({ project: publicProject(project) });
    }),
  );

  return router;
}
