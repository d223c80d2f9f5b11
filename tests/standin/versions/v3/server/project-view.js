// How projects are read and shown by the API; the tagged releases change this file.
// v3: project tags (table project_tags) on top of v2's featured flag.

/** Prisma `include` for project reads. */
export const projectInclude = { tags: { orderBy: { tag: "asc" } } };

/** Prisma `where` for GET /api/projects from its query string. */
export function projectWhere(query) {
  const where = {};
  if (query.featured === "true") where.featured = true;
  if (typeof query.tag === "string" && query.tag) where.tags = { some: { tag: query.tag } };
  return Object.keys(where).length ? where : undefined;
}

export function publicProject(project) {
  return {
    id: project.id,
    slug: project.slug,
    title: project.title,
    description: project.description,
    coverImage: project.coverImage,
    gallery: Array.isArray(project.gallery) ? project.gallery : [],
    featured: project.featured,
    tags: Array.isArray(project.tags) ? project.tags.map((entry) => entry.tag) : [],
    updatedAt: project.updatedAt,
  };
}
