-- AlterTable
ALTER TABLE "projects" ADD COLUMN "featured" BOOLEAN NOT NULL DEFAULT false;
