// Writes docs/configuration.md from the configuration schema (npm run docs:config).
import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../packages/server/src/config-docs.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
