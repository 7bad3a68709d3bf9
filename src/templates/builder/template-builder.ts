// Builds a template from a Dockerfile: one cached layer per filesystem step, keyed by instruction and inputs.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../../backends/backend.js';
import { SANDBOX_UID_BASE } from '../../backends/namespaces/sandbox-identity.js';
import { DEFAULT_TEMPLATE_CONFIG, type TemplateConfig } from '../../store/store.js';
import type { Instruction } from '../dockerfile/dockerfile-instructions.js';
import { DockerfileError } from '../dockerfile/dockerfile-parser.js';
import { resolveBaseImage, type TemplateLookup } from './base-images.js';
import { applyCopy, planCopy } from './context-copy.js';
import { DockerIgnore } from './dockerignore.js';
import { LayerStore } from './layer-store.js';
import { directoryBytes } from '../directory-bytes.js';
import { resolveOwner } from './passwd-lookup.js';
import { runBuildStep } from './run-step.js';

export { parseDockerfile } from '../dockerfile/dockerfile-parser.js';

export interface BuildRequest {
  /** The instructions, from a Dockerfile or from the e2b SDK's template builder. */
  instructions: Instruction[];
  /** Who RUN steps run as until a USER step: root for Dockerfiles (Docker's rule), `user` for SDK templates (E2B's). */
  defaultBuildUser: string;
  contextDir: string;
  buildArgs: Map<string, string>;
  startCmd: string | undefined;
  readyCmd: string | undefined;
}

export interface BuildResult {
  layers: string[];
  config: TemplateConfig;
  cachedSteps: number;
  builtSteps: number;
  sizeBytes: number;
}

export interface BuilderDeps {
  backend: Backend;
  templatesDir: string;
  findTemplate: TemplateLookup;
  log: (line: string) => void;
}

function stepKey(parentKey: string, parts: unknown): string {
  return createHash('sha256').update(parentKey).update('\0').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function describe(instruction: Instruction): string {
  return instruction.text.length > 100 ? `${instruction.text.slice(0, 97)}...` : instruction.text;
}

function shellForm(command: string[] | string): string {
  return typeof command === 'string' ? command : command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
}

export async function buildTemplate(request: BuildRequest, deps: BuilderDeps): Promise<BuildResult> {
  const { instructions } = request;
  const layerStore = new LayerStore(path.join(deps.templatesDir, 'layers'));
  const ignore = new DockerIgnore(await fs.readFile(path.join(request.contextDir, '.dockerignore'), 'utf8').catch(() => ''));
  const from = instructions[0]?.kind === 'arg' ? instructions.find((i) => i.kind === 'from') : instructions[0];
  if (!from || from.kind !== 'from') throw new DockerfileError(1, 'no FROM instruction');
  const base = await resolveBaseImage(from.image, from.line, deps.templatesDir, deps.findTemplate, deps.log);
  let layers = [...base.layers];
  let key = stepKey('', base.key);
  const inherited = base.config ?? DEFAULT_TEMPLATE_CONFIG;
  const env: Record<string, string> = { ...inherited.env };
  const args: Record<string, string> = {};
  let buildUser = request.defaultBuildUser;
  let runtimeUser = base.config ? inherited.user : 'user';
  let workdir = inherited.workdir ?? '/';
  let workdirSet = inherited.workdir !== undefined;
  let startCmd = inherited.startCmd;
  const exposedPorts = [...inherited.exposedPorts];
  const labels = { ...inherited.labels };
  let cachedSteps = 0;
  let builtSteps = 0;
  const total = instructions.length;

  for (const [index, instruction] of instructions.entries()) {
    const label = `step ${index + 1}/${total} (line ${instruction.line}): ${describe(instruction)}`;
    switch (instruction.kind) {
      case 'from':
      case 'arg':
        if (instruction.kind === 'arg' && instruction.defaultValue !== undefined) args[instruction.name] = instruction.defaultValue;
        deps.log(label);
        continue;
      case 'env':
        for (const [name, value] of instruction.values) env[name] = value;
        key = stepKey(key, ['env', instruction.values]);
        deps.log(label);
        continue;
      case 'user':
        buildUser = instruction.user;
        runtimeUser = instruction.user.split(':')[0] ?? instruction.user;
        key = stepKey(key, ['user', instruction.user]);
        deps.log(label);
        continue;
      case 'label':
        for (const [name, value] of instruction.values) labels[name] = value;
        deps.log(label);
        continue;
      case 'expose':
        exposedPorts.push(...instruction.ports);
        deps.log(label);
        continue;
      case 'start':
        startCmd = shellForm(instruction.command);
        deps.log(label);
        continue;
      default:
        break;
    }

    const parts: unknown[] = [instruction.kind, env, buildUser, workdir];
    let plan: Awaited<ReturnType<typeof planCopy>> | undefined;
    if (instruction.kind === 'copy') {
      plan = await planCopy(request.contextDir, instruction.sources, instruction.destination, workdir, ignore, instruction.line);
      parts.push(instruction.sources, instruction.destination, instruction.chown, instruction.mode, plan.digest);
    } else if (instruction.kind === 'run') {
      parts.push(instruction.command, args, instruction.user);
    } else if (instruction.kind === 'workdir') {
      parts.push(instruction.path);
    }
    key = stepKey(key, parts);
    const cached = await layerStore.find(key);
    if (instruction.kind === 'workdir') {
      workdir = path.posix.resolve(workdir, instruction.path);
      workdirSet = true;
    }
    if (cached) {
      layers = [cached, ...layers];
      cachedSteps += 1;
      deps.log(`${label}  [cached]`);
      continue;
    }
    deps.log(label);
    const started = Date.now();
    const { stagingDir, fsDir } = await layerStore.stage();
    try {
      if (instruction.kind === 'run') {
        const argv = typeof instruction.command === 'string' ? ['/bin/sh', '-c', instruction.command] : instruction.command;
        const exitCode = await runBuildStep({
          backend: deps.backend,
          layers,
          upperDir: fsDir,
          argv,
          env: { ...args, ...env },
          user: (instruction.user ?? buildUser).split(':')[0] ?? 'root',
          cwd: workdir,
          onOutput: (text) => {
            for (const line of text.split('\n')) if (line.trim()) deps.log(`  | ${line}`);
          },
          memoryMiB: 2048,
        });
        if (exitCode !== 0) throw new DockerfileError(instruction.line, `RUN failed with exit code ${exitCode}: ${describe(instruction)}`);
      } else if (instruction.kind === 'copy' && plan) {
        const ownerSpec = instruction.chown ?? '0:0';
        const owner = await resolveOwner(layers, ownerSpec);
        if (!owner) throw new DockerfileError(instruction.line, `COPY --chown=${ownerSpec}: no such user or group in the image`);
        await applyCopy(request.contextDir, plan, fsDir, owner.uid + SANDBOX_UID_BASE, owner.gid + SANDBOX_UID_BASE, { uid: SANDBOX_UID_BASE, gid: SANDBOX_UID_BASE }, instruction.mode);
      } else if (instruction.kind === 'workdir') {
        const owner = (await resolveOwner(layers, buildUser)) ?? { uid: 0, gid: 0 };
        const target = path.join(fsDir, workdir);
        await fs.mkdir(target, { recursive: true, mode: 0o755 });
        let current = target;
        while (current.length > fsDir.length) {
          await fs.lchown(current, (current === target ? owner.uid : 0) + SANDBOX_UID_BASE, (current === target ? owner.gid : 0) + SANDBOX_UID_BASE);
          current = path.dirname(current);
        }
      }
      await fs.chown(fsDir, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
      const committed = await layerStore.commit(stagingDir, { key, instruction: instruction.text, createdAtMs: Date.now(), sizeBytes: await directoryBytes(fsDir) });
      layers = [committed, ...layers];
      builtSteps += 1;
      deps.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      await layerStore.discard(stagingDir);
      throw error;
    }
  }
  const config: TemplateConfig = {
    env,
    user: runtimeUser,
    workdir: workdirSet ? workdir : undefined,
    startCmd: request.startCmd ?? startCmd,
    readyCmd: request.readyCmd ?? inherited.readyCmd,
    exposedPorts,
    labels,
  };
  // The template's own size: the layers its steps added (base images are shared and counted once, elsewhere).
  let sizeBytes = 0;
  for (const layer of layers.slice(0, layers.length - base.layers.length)) sizeBytes += await directoryBytes(layer);
  return { layers, config, cachedSteps, builtSteps, sizeBytes };
}
