#!/usr/bin/env node
// Entry point for the `bind9-controller` command. Node.js 24 runs the TypeScript sources
// directly (type stripping), so there is no build step.
import '../src/cli/main.ts';
