#!/usr/bin/env node
// Runs the compiled runtime (`npm run build`).
await import('../lib/runtime/main.js');
