#!/usr/bin/env node
// The `gatehouse` command line (src/cli/main.ts). It runs the build in dist/ when that build is
// of the sources as they are now (see build-stamp.js), else the sources through tsx (a
// development checkout, where compiling them costs about half a second at every start); an
// install without the sources runs its build. It never runs a build older than its sources.
import { existsSync } from 'node:fs';
import { buildIsCurrent } from './build-stamp.js';

const built = new URL('../dist/src/cli/main.js', import.meta.url);
const sources = new URL('../src/cli/main.ts', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined;
  }
}

if (existsSync(built) && (!existsSync(sources) || buildIsCurrent())) {
  await import(built.href);
} else {
  const register = await tsxRegister();
  if (register) {
    register();
    await import(sources.href);
  } else {
    const why = existsSync(built) ? 'the build in dist/ is older than the sources' : 'not built yet';
    process.stderr.write(`gatehouse: ${why}: run \`npm run build\` (or install the devDependencies)\n`);
    process.exit(1);
  }
}
