// Prints, as JSON, what each pinned dotenv reads from the env file given as the only argument:
// { "dotenv16": {...}, "dotenv17": {...} }. parse() is what dotenv's config() applies to process.env.
"use strict";
const fs = require("node:fs");

const source = fs.readFileSync(process.argv[2]);
const result = {};
for (const name of ["dotenv16", "dotenv17"]) {
  result[name] = require(name).parse(source);
}
process.stdout.write(JSON.stringify(result));
