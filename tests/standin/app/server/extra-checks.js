// Health checks a release adds on top of the standard ones (none in v1).
export const extraChecks = [];
