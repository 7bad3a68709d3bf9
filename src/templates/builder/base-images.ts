// What a Dockerfile FROM line means here: Debian suites, python/node aliases onto Debian packages, or a Hearth template.
import { DockerfileError } from '../dockerfile/dockerfile-parser.js';
import { ensureDebianImage } from '../base-template.js';
import type { TemplateConfig } from '../../store/store.js';

const MINIMAL = ['bash', 'ca-certificates', 'sudo', 'procps', 'coreutils'];
const DEBIAN_SUITES: Record<string, string> = { bookworm: 'bookworm', '12': 'bookworm', stable: 'bookworm', trixie: 'trixie', '13': 'trixie', latest: 'bookworm' };
const PYTHON_SUITES: Record<string, string> = { '3': 'bookworm', '3.11': 'bookworm', '3.13': 'trixie' };
const NODE_SUITES: Record<string, string> = { '18': 'bookworm', '20': 'trixie' };

export interface BaseImage {
  layers: string[];
  config: TemplateConfig | undefined;
  /** Identity of the base for cache keys. */
  key: string;
}

export interface TemplateLookup {
  (name: string): Promise<{ id: string; layers: string[]; config: TemplateConfig } | undefined>;
}

function pick(table: Record<string, string>, tag: string, what: string, line: number): string {
  const suite = table[tag.split('-')[0] ?? tag];
  if (!suite) throw new DockerfileError(line, `${what}:${tag} is not available: choose one of ${Object.keys(table).map((t) => `${what}:${t}`).join(', ')} (built from Debian packages)`);
  return suite;
}

export async function resolveBaseImage(image: string, line: number, templatesDir: string, findTemplate: TemplateLookup, onProgress: (line: string) => void): Promise<BaseImage> {
  const [name = '', tag = 'latest'] = image.split(':');
  if (name === 'debian' || name === 'library/debian') {
    const suite = pick(DEBIAN_SUITES, tag, 'debian', line);
    const rootfs = await ensureDebianImage(templatesDir, `debian-${suite}`, suite, MINIMAL, onProgress);
    return { layers: [rootfs], config: undefined, key: `debian:${suite}:${rootfs}` };
  }
  if (name === 'python') {
    const suite = pick(PYTHON_SUITES, tag, 'python', line);
    const rootfs = await ensureDebianImage(templatesDir, `python-${suite}`, suite, [...MINIMAL, 'python3', 'python3-pip', 'python3-venv', 'python-is-python3'], onProgress);
    return { layers: [rootfs], config: undefined, key: `python:${suite}:${rootfs}` };
  }
  if (name === 'node') {
    const suite = pick(NODE_SUITES, tag, 'node', line);
    const rootfs = await ensureDebianImage(templatesDir, `node-${suite}`, suite, [...MINIMAL, 'nodejs', 'npm'], onProgress);
    return { layers: [rootfs], config: undefined, key: `node:${suite}:${rootfs}` };
  }
  const template = await findTemplate(image);
  if (template) return { layers: template.layers, config: template.config, key: `template:${template.id}:${template.layers.join(':')}` };
  throw new DockerfileError(line, `FROM ${image}: there is no registry to pull from here; use debian:bookworm, debian:trixie, python:3.11, python:3.13, node:18, node:20 or the name of a Hearth template`);
}
