-- Replaces the failed 20260301000000_project_tags (resolved with
-- `prisma migrate resolve --rolled-back 20260301000000_project_tags`).
-- Safe whether that attempt left its first statements behind or not.

-- CreateTable
CREATE TABLE IF NOT EXISTS "project_tags" (
    "id" SERIAL NOT NULL,
    "project_id" INTEGER NOT NULL,
    "tag" TEXT NOT NULL,

    CONSTRAINT "project_tags_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "project_tags_project_id_tag_key" ON "project_tags"("project_id", "tag");

-- AddForeignKey
ALTER TABLE "project_tags" DROP CONSTRAINT IF EXISTS "project_tags_project_id_fkey";
ALTER TABLE "project_tags" ADD CONSTRAINT "project_tags_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill
INSERT INTO "project_tags" ("project_id", "tag") SELECT "id", 'legacy' FROM "projects" ON CONFLICT DO NOTHING;
