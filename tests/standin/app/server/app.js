// The HTTP application: health, a small JSON API, feeds, sitemap and the built front end.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import express from "express";
import session from "express-session";
import connectPgSimple from "connect-pg-simple";
import { API_VERSION, buildLivePayload, buildReadyPayload, wantsDetail } from "./health.js";
import { runChecks } from "./checks.js";
import { APP_VERSION } from "./version.js";
import { DIST_DIR, UPLOADS_DIR } from "./paths.js";
import { pngForName } from "./png.js";
import { createApiRouter, API_ENDPOINTS } from "./api.js";
import { renderPostsFeed, renderProjectsFeed, renderSitemap } from "./feeds.js";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp({ config, prisma, buildInfo }) {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");

  app.use((req, res, next) => {
    const incoming = req.get("x-request-id");
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    req.requestId = requestId;
    res.set("X-Request-Id", requestId);
    if (isApiPath(req.path)) {
      res.set("X-API-Version", API_VERSION);
      res.set("Cache-Control", "no-store");
    }
    next();
  });

  app.use("/api", corsFor([...config.appOrigins, ...config.adminOrigins]));

  // Maintenance: every write under /api is refused; reads and pages are served.
  app.use((req, res, next) => {
    if (config.maintenanceMode && WRITE_METHODS.has(req.method) && isApiPath(req.path)) {
      res.status(503).set("Retry-After", "120").json({ error: "maintenance_mode" });
      return;
    }
    next();
  });

  const detailFor = (req) =>
    wantsDetail({ remoteAddress: req.socket.remoteAddress, headers: req.headers, token: config.operationalHealthToken });

  app.get("/api/health/live", (req, res) => {
    res.json(buildLivePayload({ buildInfo, detailed: detailFor(req) }));
  });

  const readyHandler = async (req, res) => {
    const checks = await runChecks({ prisma, maintenanceMode: config.maintenanceMode });
    const { httpStatus, payload } = buildReadyPayload({
      checks,
      maintenanceMode: config.maintenanceMode,
      buildInfo,
      detailed: detailFor(req),
    });
    res.status(httpStatus).json(payload);
  };
  app.get("/api/health", readyHandler);
  app.get("/api/health/ready", readyHandler);

  app.get("/api/version", (req, res) => {
    res.json({
      version: APP_VERSION,
      apiVersion: API_VERSION,
      commitSha: buildInfo.commitSha,
      builtAt: buildInfo.builtAt,
    });
  });

  app.get("/api/contracts/v1.json", (req, res) => {
    res.json({ version: API_VERSION, app: "nekomorto", appVersion: APP_VERSION, endpoints: API_ENDPOINTS });
  });

  const sessionStore = new (connectPgSimple(session))({
    conString: config.databaseUrl,
    tableName: config.sessionTable,
    createTableIfMissing: false,
    errorLog: (...args) => console.error("[session]", ...args),
  });
  const sessionMiddleware = session({
    name: "nekomorto.sid",
    store: sessionStore,
    secret: config.sessionSecrets,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", secure: config.isProduction ? "auto" : false, maxAge: 86_400_000 },
  });
  // Sessions only where they are used, so health probes never write to the store.
  app.get("/api/session", sessionMiddleware, (req, res, next) => {
    req.session.views = (req.session.views || 0) + 1;
    req.session.save((error) => {
      if (error) {
        next(error);
        return;
      }
      res.json({ views: req.session.views, table: config.sessionTable });
    });
  });

  app.use(express.json({ limit: "256kb" }));
  app.use("/api", createApiRouter({ prisma }));
  app.use("/api", (req, res) => res.status(404).json({ error: "not_found" }));

  app.use("/uploads", express.static(UPLOADS_DIR, { fallthrough: false, index: false, dotfiles: "ignore" }));

  // Stand-in only: the "remote" images the seed points projects at (always on 127.0.0.1).
  app.get("/fixtures/remote-images/:file", (req, res) => {
    const match = req.params.file.match(/^([A-Za-z0-9_-]{1,64})\.png$/);
    if (!match) {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    res.type("image/png").set("Cache-Control", "public, max-age=60").send(pngForName(match[1], 24));
  });

  const baseUrlFor = (req) => config.canonicalOrigin || `${req.protocol}://${req.get("host")}`;

  app.get("/sitemap.xml", async (req, res, next) => {
    try {
      const [posts, projects] = await Promise.all([
        prisma.post.findMany({ select: { slug: true, updatedAt: true }, orderBy: { id: "asc" } }),
        prisma.project.findMany({ select: { slug: true, updatedAt: true }, orderBy: { id: "asc" } }),
      ]);
      res.type("application/xml").send(renderSitemap({ baseUrl: baseUrlFor(req), posts, projects }));
    } catch (error) {
      next(error);
    }
  });

  app.get("/rss.xml", async (req, res, next) => {
    try {
      const posts = await prisma.post.findMany({ orderBy: { publishedAt: "desc" }, take: 50 });
      res.type("application/rss+xml").send(renderPostsFeed({ baseUrl: baseUrlFor(req), posts }));
    } catch (error) {
      next(error);
    }
  });

  app.get("/projects/rss.xml", async (req, res, next) => {
    try {
      const projects = await prisma.project.findMany({ orderBy: { id: "desc" }, take: 50 });
      res.type("application/rss+xml").send(renderProjectsFeed({ baseUrl: baseUrlFor(req), projects }));
    } catch (error) {
      next(error);
    }
  });

  app.get("/manifest.webmanifest", (req, res) => {
    res.type("application/manifest+json").json({
      name: "Nekomorto",
      short_name: "Nekomorto",
      start_url: "/",
      display: "standalone",
      background_color: "#101014",
      theme_color: "#7c3aed",
      icons: [],
    });
  });

  app.use(
    "/assets",
    express.static(path.join(DIST_DIR, "assets"), { fallthrough: false, index: false, immutable: true, maxAge: "1y" }),
  );

  // Front end: every other GET is the single-page app's index.
  app.get("/{*page}", (req, res) => {
    const indexFile = path.join(DIST_DIR, "index.html");
    if (!fs.existsSync(indexFile)) {
      res.status(503).type("text/plain").send("Front-end build missing: run npm run build.\n");
      return;
    }
    res.set("Cache-Control", "no-cache").sendFile(indexFile);
  });

  app.use((req, res) => {
    res.status(404).type("text/plain").send("Not found\n");
  });

  // eslint-disable-next-line no-unused-vars
  app.use((error, req, res, next) => {
    const status = Number.isInteger(error.status || error.statusCode) ? error.status || error.statusCode : 500;
    if (status >= 500) console.error(`[${req.requestId}] ${req.method} ${req.originalUrl}:`, error?.message || error);
    if (isApiPath(req.path)) {
      res.status(status).json({ error: status === 404 ? "not_found" : status >= 500 ? "internal_error" : "bad_request" });
    } else {
      res.status(status).type("text/plain").send(status === 404 ? "Not found\n" : "Error\n");
    }
  });

  return app;
}

function isApiPath(requestPath) {
  return requestPath === "/api" || requestPath.startsWith("/api/");
}

function corsFor(origins) {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get("origin");
    if (origin && allowed.has(origin)) {
      res.set("Access-Control-Allow-Origin", origin);
      res.set("Access-Control-Allow-Credentials", "true");
      res.vary("Origin");
      if (req.method === "OPTIONS") {
        res.set("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE");
        res.set("Access-Control-Allow-Headers", "Content-Type,Authorization,X-Request-Id");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
