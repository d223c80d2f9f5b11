-- Deliberately broken (stand-in tag v3-bad-migration): the first statements
-- succeed, the backfill violates the foreign key and fails on every database.

-- CreateTable
CREATE TABLE "project_tags" (
    "id" SERIAL NOT NULL,
    "project_id" INTEGER NOT NULL,
    "tag" TEXT NOT NULL,

    CONSTRAINT "project_tags_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "project_tags_project_id_tag_key" ON "project_tags"("project_id", "tag");

-- AddForeignKey
ALTER TABLE "project_tags" ADD CONSTRAINT "project_tags_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill (wrong: there is no project 0)
INSERT INTO "project_tags" ("project_id", "tag") VALUES (0, 'legacy');
