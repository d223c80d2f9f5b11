// How projects are read and shown by the API; the tagged releases change this file.
// v2: projects.featured, and GET /api/projects?featured=true.

/** Prisma `include` for project reads. */
export const projectInclude = undefined;

/** Prisma `where` for GET /api/projects from its query string. */
export function projectWhere(query) {
  return query.featured === "true" ? { featured: true } : undefined;
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
    updatedAt: project.updatedAt,
  };
}
