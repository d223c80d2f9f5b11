// The release shown on "/" and /api/version; each tagged version changes it.
export const APP_VERSION = "v3";
