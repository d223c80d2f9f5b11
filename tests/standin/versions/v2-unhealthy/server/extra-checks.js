// Health checks a release adds on top of the standard ones.
// v2-unhealthy: a check that is always critical, so /api/health and
// /api/health/ready answer 503 with status "fail" while the app serves pages.
export const extraChecks = [
  {
    name: "search-index",
    run: async () => ({
      status: "critical",
      message: "Search index unavailable",
      meta: { release: "v2-unhealthy" },
    }),
  },
];
