// `hearth template build-base`: builds (or confirms) the cached base template with visible progress.
import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/server-config.js';
import { baseTemplatePaths, ensureBaseTemplate } from '../templates/base-template.js';

export async function runTemplate(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== 'build-base') {
    process.stderr.write('usage: hearth template build-base [--templates-dir DIR]\n');
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { 'templates-dir': { type: 'string' } }, strict: true });
  const templatesDir = values['templates-dir'] ?? defaultConfig().templatesDir;
  const manifest = await ensureBaseTemplate(templatesDir, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`base template: ${baseTemplatePaths(templatesDir).dir} (${(manifest.sizeBytes / 1048576).toFixed(0)} MiB, built ${new Date(manifest.builtAtMs).toISOString()})\n`);
  return 0;
}
