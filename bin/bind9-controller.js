#!/usr/bin/env node
// Entry point for the `bind9-controller` command in development: Node.js 24 runs the
// TypeScript sources directly (type stripping). The image runs the compiled JavaScript
// instead (`npm run build` → dist/src/cli/main.js, see the Dockerfile): same CLI, less
// memory and a faster start.
import '../src/cli/main.ts';
