// Translates the e2b SDK's template definition (fromImage/fromTemplate + steps) into build instructions.
import { InvalidArgumentError, UnsupportedError } from '../../errors/hearth-error.js';
import type { Instruction } from '../dockerfile/dockerfile-instructions.js';

export interface SdkTemplateDefinition {
  fromImage?: string;
  fromTemplate?: string;
  fromImageRegistry?: unknown;
  startCmd?: string;
  readyCmd?: string;
  steps: Array<{ type: string; args?: string[]; filesHash?: string; force?: boolean }>;
  force?: boolean;
}

/** E2B's default image and aliases, mapped onto what Hearth builds locally. */
const IMAGE_ALIASES: Record<string, string> = {
  'e2bdev/base': 'base',
  'e2bdev/base:latest': 'base',
  'debian:stable': 'debian:bookworm',
  'python:3': 'python:3.11',
  'node:lts': 'node:20',
};

export interface SdkBuildPlan {
  instructions: Instruction[];
  /** COPY steps' upload hashes, in order: their extracted archives form the build context. */
  copyHashes: string[];
  startCmd: string | undefined;
  readyCmd: string | undefined;
}

export function planSdkBuild(definition: SdkTemplateDefinition): SdkBuildPlan {
  if (definition.fromImageRegistry) throw new UnsupportedError('registry credentials', 'Hearth builds images from Debian packages and has no registry to pull from');
  const from = definition.fromTemplate ?? definition.fromImage ?? 'e2bdev/base';
  const image = IMAGE_ALIASES[from] ?? from;
  const instructions: Instruction[] = [{ kind: 'from', line: 0, text: `FROM ${image}`, image }];
  const copyHashes: string[] = [];
  definition.steps.forEach((step, index) => {
    const line = index + 1;
    const args = step.args ?? [];
    const text = `${step.type} ${args.join(' ')}`.trim();
    switch (step.type) {
      case 'RUN': {
        const [command, user] = args;
        if (!command) throw new InvalidArgumentError(`step ${line}: RUN needs a command`);
        instructions.push({ kind: 'run', line, text: step.force ? `${text} #force-${Date.now()}` : text, command, ...(user ? { user } : {}) });
        break;
      }
      case 'COPY': {
        const [source, destination, user, mode] = args;
        if (!source || !destination || !step.filesHash) throw new InvalidArgumentError(`step ${line}: COPY needs a source, a destination and the uploaded files' hash`);
        copyHashes.push(step.filesHash);
        instructions.push({
          kind: 'copy',
          line,
          text: `${text} ${step.filesHash}`,
          sources: [source],
          destination,
          chown: user || undefined,
          fromUrl: false,
          ...(mode ? { mode: Number.parseInt(mode, 8) } : {}),
        });
        break;
      }
      case 'ENV': {
        const values: Array<[string, string]> = [];
        for (let i = 0; i + 1 < args.length; i += 2) values.push([args[i] ?? '', args[i + 1] ?? '']);
        instructions.push({ kind: 'env', line, text, values });
        break;
      }
      case 'WORKDIR':
        instructions.push({ kind: 'workdir', line, text, path: args[0] ?? '/' });
        break;
      case 'USER':
        instructions.push({ kind: 'user', line, text, user: args[0] ?? 'user' });
        break;
      default:
        throw new UnsupportedError(`template step ${step.type}`, `Hearth builds RUN, COPY, ENV, WORKDIR and USER steps (step ${line})`);
    }
  });
  return { instructions, copyHashes, startCmd: definition.startCmd || undefined, readyCmd: definition.readyCmd || undefined };
}
