// sitemap.xml and the RSS feeds.

export function escapeXml(value) {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function absolute(baseUrl, pathOrUrl) {
  return new URL(pathOrUrl, `${baseUrl}/`).toString();
}

export function renderSitemap({ baseUrl, posts, projects }) {
  const entries = [
    { loc: absolute(baseUrl, "/"), lastmod: null },
    { loc: absolute(baseUrl, "/projects"), lastmod: null },
    ...posts.map((post) => ({ loc: absolute(baseUrl, `/posts/${post.slug}`), lastmod: post.updatedAt })),
    ...projects.map((project) => ({ loc: absolute(baseUrl, `/projects/${project.slug}`), lastmod: project.updatedAt })),
  ];
  const urls = entries
    .map(
      ({ loc, lastmod }) =>
        `  <url><loc>${escapeXml(loc)}</loc>${lastmod ? `<lastmod>${new Date(lastmod).toISOString()}</lastmod>` : ""}</url>`,
    )
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`;
}

function renderFeed({ baseUrl, title, link, description, items }) {
  const body = items
    .map(
      (item) =>
        `    <item>\n      <title>${escapeXml(item.title)}</title>\n      <link>${escapeXml(item.link)}</link>\n` +
        `      <guid isPermaLink="true">${escapeXml(item.link)}</guid>\n` +
        `      <pubDate>${new Date(item.date).toUTCString()}</pubDate>\n` +
        `      <description>${escapeXml(item.description)}</description>\n    </item>`,
    )
    .join("\n");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n  <channel>\n` +
    `    <title>${escapeXml(title)}</title>\n    <link>${escapeXml(absolute(baseUrl, link))}</link>\n` +
    `    <description>${escapeXml(description)}</description>\n    <language>pt-BR</language>\n` +
    `${body ? `${body}\n` : ""}  </channel>\n</rss>\n`
  );
}

export function renderPostsFeed({ baseUrl, posts }) {
  return renderFeed({
    baseUrl,
    title: "Nekomorto - Posts",
    link: "/",
    description: "Posts recentes",
    items: posts.map((post) => ({
      title: post.title,
      link: absolute(baseUrl, `/posts/${post.slug}`),
      date: post.publishedAt,
      description: post.body.slice(0, 280),
    })),
  });
}

export function renderProjectsFeed({ baseUrl, projects }) {
  return renderFeed({
    baseUrl,
    title: "Nekomorto - Projetos",
    link: "/projects",
    description: "Projetos",
    items: projects.map((project) => ({
      title: project.title,
      link: absolute(baseUrl, `/projects/${project.slug}`),
      date: project.updatedAt,
      description: project.description.slice(0, 280),
    })),
  });
}
