#!/usr/bin/env node
// `npm start`: the node and gateway services are not built yet (issues 4 and 5).
console.error(
  "rookery: `npm start` arrives with the node and gateway services; for now run `npm test` or `npx rookery --help`",
);
process.exit(1);
