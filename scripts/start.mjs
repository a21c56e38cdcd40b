#!/usr/bin/env node
// `npm start`: the node and gateway services are not built yet (issues 4 and 5).
console.error(
  "rookery: `npm start` arrives with the gateway service (issue 5); for now run `npm test`, `npx rookery --help`, or one actor node with `npx tsx services/node/src/main.ts`",
);
process.exit(1);
