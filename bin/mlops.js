#!/usr/bin/env node
// Runs the compiled CLI (`npm run build`); app files in TypeScript get tsx when they are loaded.
await import('../lib/cli/main.js');
