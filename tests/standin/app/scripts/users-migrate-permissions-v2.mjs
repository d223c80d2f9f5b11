// `npm run users:migrate-permissions-v2 [-- --apply]`
// Converts the legacy `permissions` flags of every user into RBAC v2 `roles`.
// Prints ONE JSON document on stdout (the plan, or the result with --apply);
// human notes go to stderr. Every apply writes a backup of the users' previous
// roles to backups/ and an audit_log row, even when nothing changes; a second
// apply changes no user.

import fs from "node:fs";
import path from "node:path";
import { openPrisma, parseArgs, runScript, timestampId } from "./lib/cli.js";
import { BACKUPS_DIR } from "../server/paths.js";

export const V2_ROLES = ["admin", "editor", "project_manager", "uploader", "moderator"];

const PERMISSION_ROLES = [
  [/^(\*|admin)$/, "admin"],
  [/^posts\.(\*|create|edit|delete|publish)$/, "editor"],
  [/^projects\.(\*|manage|create|edit)$/, "project_manager"],
  [/^uploads\.(\*|manage|create)$/, "uploader"],
  [/^comments\.(\*|moderate)$/, "moderator"],
];

function legacyPermissions(value) {
  return Array.isArray(value) ? value.filter((item) => typeof item === "string") : [];
}

function planUser(user) {
  const permissions = legacyPermissions(user.permissions);
  const current = Array.isArray(user.roles) ? user.roles : [];
  const mapped = new Set();
  const unmapped = [];
  for (const permission of permissions) {
    const match = PERMISSION_ROLES.find(([pattern]) => pattern.test(permission));
    if (match) mapped.add(match[1]);
    else unmapped.push(permission);
  }
  const kept = current.filter((role) => V2_ROLES.includes(role));
  const target = V2_ROLES.filter((role) => mapped.has(role) || kept.includes(role));
  const rolesAdded = target.filter((role) => !current.includes(role));
  const rolesRemoved = current.filter((role) => !target.includes(role));
  const changed = rolesAdded.length > 0 || rolesRemoved.length > 0 || user.permissionsVersion !== 2;
  return {
    userId: user.id,
    username: user.username,
    permissions,
    rolesBefore: current,
    rolesAfter: target,
    rolesAdded,
    rolesRemoved,
    unmappedPermissions: unmapped,
    permissionsVersionBefore: user.permissionsVersion,
    changed,
  };
}

async function main() {
  const { options } = parseArgs(process.argv.slice(2), { flags: ["apply", "dry-run"] });
  const apply = Boolean(options.apply) && !options["dry-run"];
  const prisma = await openPrisma();
  const users = await prisma.user.findMany({ orderBy: { id: "asc" } });
  const plans = users.map(planUser);
  const changes = plans.filter((plan) => plan.changed);
  const totals = {
    users: plans.length,
    changed: changes.length,
    unchanged: plans.length - changes.length,
    rolesAdded: changes.reduce((sum, plan) => sum + plan.rolesAdded.length, 0),
    rolesRemoved: changes.reduce((sum, plan) => sum + plan.rolesRemoved.length, 0),
    unmappedPermissions: plans.reduce((sum, plan) => sum + plan.unmappedPermissions.length, 0),
  };
  const report = {
    script: "users:migrate-permissions-v2",
    mode: apply ? "apply" : "dry-run",
    generatedAt: new Date().toISOString(),
    totals,
    changes: changes.map(({ changed, ...plan }) => plan),
    unmapped: plans
      .filter((plan) => plan.unmappedPermissions.length > 0)
      .map((plan) => ({ userId: plan.userId, username: plan.username, permissions: plan.unmappedPermissions })),
    backupFile: null,
    auditLogId: null,
  };

  if (apply) {
    const stamp = timestampId();
    const backupDir = path.join(BACKUPS_DIR, "users-permissions-v2");
    fs.mkdirSync(backupDir, { recursive: true });
    let backupFile = path.join(backupDir, `users-${stamp}.json`);
    for (let n = 2; fs.existsSync(backupFile); n += 1) backupFile = path.join(backupDir, `users-${stamp}-${n}.json`);
    const snapshot = users.map((user) => ({
      id: user.id,
      username: user.username,
      permissions: user.permissions,
      roles: user.roles,
      permissionsVersion: user.permissionsVersion,
    }));
    fs.writeFileSync(backupFile, `${JSON.stringify({ createdAt: report.generatedAt, users: snapshot }, null, 2)}\n`, { flag: "wx" });
    report.backupFile = path.relative(path.dirname(BACKUPS_DIR), backupFile);

    const audit = await prisma.$transaction(async (tx) => {
      for (const plan of changes) {
        await tx.user.update({ where: { id: plan.userId }, data: { roles: plan.rolesAfter, permissionsVersion: 2 } });
      }
      return tx.auditLog.create({
        data: {
          action: "users.migrate_permissions_v2",
          actor: process.env.USER || "script",
          details: { totals, backupFile: report.backupFile, userIds: changes.map((plan) => plan.userId) },
        },
      });
    });
    report.auditLogId = audit.id;
    console.error(
      `users:migrate-permissions-v2: applied to ${totals.changed} user(s); backup ${report.backupFile}; audit_log id ${audit.id}.`,
    );
  } else {
    console.error(
      `users:migrate-permissions-v2 (dry-run): ${totals.changed} user(s) would change; run with --apply to write.`,
    );
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

await runScript("users:migrate-permissions-v2", main);
