// How projects are read and shown by the API; the tagged releases change this file.

/** Prisma `include` for project reads. */
export const projectInclude = undefined;

/** Prisma `where` for GET /api/projects from its query string. */
export function projectWhere(query) {
  void query;
  return undefined;
}

export function publicProject(project) {
  return {
    id: project.id,
    slug: project.slug,
    title: project.title,
    description: project.description,
    coverImage: project.coverImage,
    gallery: Array.isArray(project.gallery) ? project.gallery : [],
    updatedAt: project.updatedAt,
  };
}
