#!/usr/bin/env node
// `npm start`: waits for the gateway service (issue 5); an actor node already runs alone.
console.error(
  "rookery: `npm start` arrives with the gateway service (issue 5); for now run `npm test`, `npx rookery --help`, or one actor node with `npx tsx services/node/src/main.ts`",
);
process.exit(1);
