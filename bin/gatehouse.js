#!/usr/bin/env node
// The `gatehouse` command line (src/cli/main.ts). A development checkout runs the TypeScript
// sources through tsx, so it is never stale; an install without devDependencies runs the build
// that `npm start` made.
import { existsSync } from 'node:fs';

let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  register = undefined;
}
const built = new URL('../dist/src/cli/main.js', import.meta.url);
if (register) {
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('gatehouse: not built yet: run `npm run build` (or install the devDependencies)\n');
  process.exit(1);
}
