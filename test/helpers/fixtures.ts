// Where the shared golden fixtures live: ../shared beside the checkout (TENSORFORGE_FIXTURES overrides).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/native.js';

export const GOLDEN_DIR = process.env.TENSORFORGE_FIXTURES ?? resolve(packageRoot, '..', 'shared', 'fixtures', 'golden');
if (!existsSync(GOLDEN_DIR)) throw new Error(`golden fixtures not found at ${GOLDEN_DIR} (set TENSORFORGE_FIXTURES)`);
export const goldenFile = (name: string) => join(GOLDEN_DIR, name);
