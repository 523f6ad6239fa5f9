#!/usr/bin/env node
// Loads the TypeScript CLI through tsx so apps written in TypeScript can be imported directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
