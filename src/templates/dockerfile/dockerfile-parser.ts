// Parses a Dockerfile into typed instructions; anything Hearth cannot honour fails with its line number and why.
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import type { Instruction, ParsedDockerfile } from './dockerfile-instructions.js';

/** A Dockerfile problem: says which line and what to do instead. */
export class DockerfileError extends InvalidArgumentError {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`Dockerfile line ${line}: ${message}`);
    this.line = line;
  }
}

const UNSUPPORTED: Record<string, string> = {
  VOLUME: 'sandboxes have one writable filesystem; create the directory with RUN mkdir instead',
  HEALTHCHECK: 'use --ready-cmd (the template ready check) instead',
  ONBUILD: 'build triggers are not supported',
  STOPSIGNAL: 'sandboxes are stopped by Hearth, not by a signal to the start command',
  SHELL: 'RUN always uses /bin/sh -c; write the shell explicitly, e.g. RUN bash -c "..."',
  MAINTAINER: 'deprecated; use LABEL maintainer="..."',
};

interface LogicalLine {
  line: number;
  text: string;
}

/** Joins backslash continuations and drops comments and blank lines, keeping each instruction's first line number. */
function logicalLines(source: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let current: LogicalLine | undefined;
  source.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    const trimmed = raw.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current && trimmed.startsWith('#')) return;
    const continued = /\\\s*$/.test(raw);
    const piece = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${piece.trim()}`;
    else current = { line: lineNumber, text: piece.trim() };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

/** `${NAME}`, `$NAME`, `${NAME:-default}` and `${NAME:+alt}` from the build variables. */
export function substitute(text: string, variables: ReadonlyMap<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced: string | undefined, operator: string | undefined, word: string | undefined, bare: string | undefined) => {
    if (match === '\\$') return '$';
    const name = braced ?? bare ?? '';
    const value = variables.get(name);
    if (operator === '-') return value ?? word ?? '';
    if (operator === '+') return value !== undefined && value !== '' ? word ?? '' : '';
    return value ?? '';
  });
}

function jsonArray(text: string, line: number): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DockerfileError(line, `exec form must be a JSON array of strings: ${text}`);
  }
  if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== 'string') || parsed.length === 0) {
    throw new DockerfileError(line, 'exec form must be a non-empty JSON array of strings');
  }
  return parsed as string[];
}

/** Splits `a=b "c d"=e` or the legacy `KEY value with spaces`. */
function keyValues(rest: string, line: number, instruction: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*=/.test(rest)) {
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)\s+(.*)$/.exec(rest);
    if (!match?.[1] || match[2] === undefined) throw new DockerfileError(line, `${instruction} needs KEY=VALUE`);
    return [[match[1], match[2]]];
  }
  const pattern = /([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s]*)\s*/y;
  let index = 0;
  while (index < rest.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(rest);
    if (!match?.[1]) throw new DockerfileError(line, `cannot read ${instruction} near "${rest.slice(index)}"`);
    let value = match[2] ?? '';
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    pairs.push([match[1], value]);
    index = pattern.lastIndex;
  }
  return pairs;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

export function parseDockerfile(source: string, buildArgs: ReadonlyMap<string, string> = new Map()): ParsedDockerfile {
  const instructions: Instruction[] = [];
  const variables = new Map<string, string>();
  let sawFrom = false;
  for (const { line, text } of logicalLines(source)) {
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(text);
    if (!match?.[1]) throw new DockerfileError(line, `cannot read "${text}"`);
    const keyword = match[1].toUpperCase();
    const rest = (match[2] ?? '').trim();
    if (keyword in UNSUPPORTED) throw new DockerfileError(line, `${keyword} is not supported: ${UNSUPPORTED[keyword]}`);
    if (!sawFrom && keyword !== 'FROM' && keyword !== 'ARG') throw new DockerfileError(line, `${keyword} before FROM: a Dockerfile starts with FROM`);
    if (rest === '') throw new DockerfileError(line, `${keyword} needs an argument`);
    switch (keyword) {
      case 'FROM': {
        if (sawFrom) throw new DockerfileError(line, 'multi-stage builds are not supported: use one FROM, or build the first stage as its own template and FROM it');
        const parts = words(substitute(rest, variables));
        if (parts.some((part) => part.startsWith('--'))) throw new DockerfileError(line, 'FROM --platform is not supported: templates are built for this host');
        if (parts.length === 3 && parts[1]?.toUpperCase() === 'AS') parts.splice(1, 2);
        if (parts.length !== 1 || !parts[0]) throw new DockerfileError(line, 'FROM takes one image name');
        instructions.push({ kind: 'from', line, text, image: parts[0] });
        sawFrom = true;
        break;
      }
      case 'RUN': {
        if (/^--/.test(rest)) throw new DockerfileError(line, `RUN flags (${rest.split(/\s/)[0]}) are not supported`);
        if (rest.startsWith('<<')) throw new DockerfileError(line, 'heredocs are not supported: put the script in a file, COPY it and RUN it');
        instructions.push({ kind: 'run', line, text, command: jsonArray(rest, line) ?? rest });
        break;
      }
      case 'COPY':
      case 'ADD': {
        let chown: string | undefined;
        const parts = jsonArray(rest, line) ?? words(rest);
        while (parts[0]?.startsWith('--')) {
          const flag = parts.shift() ?? '';
          if (flag.startsWith('--chown=')) chown = substitute(flag.slice('--chown='.length), variables);
          else throw new DockerfileError(line, `${keyword} ${flag.split('=')[0]} is not supported${flag.startsWith('--from') ? ': multi-stage builds are not supported' : ''}`);
        }
        if (parts.length < 2) throw new DockerfileError(line, `${keyword} needs at least one source and a destination`);
        const resolved = parts.map((part) => substitute(part, variables));
        const destination = resolved.pop() ?? '';
        if (keyword === 'ADD' && resolved.some((source) => /^[a-z]+:\/\//i.test(source))) {
          throw new DockerfileError(line, 'ADD from a URL is not supported (there is no network at build-file level): download it with RUN curl');
        }
        if (keyword === 'ADD' && resolved.some((source) => /\.(tar|tgz|tar\.(gz|xz|bz2|zst))$/.test(source))) {
          throw new DockerfileError(line, 'ADD does not unpack archives here: COPY the archive and RUN tar -x');
        }
        instructions.push({ kind: 'copy', line, text, sources: resolved, destination, chown, fromUrl: false });
        break;
      }
      case 'ENV': {
        const values = keyValues(rest, line, 'ENV').map(([key, value]): [string, string] => [key, substitute(value, variables)]);
        for (const [key, value] of values) variables.set(key, value);
        instructions.push({ kind: 'env', line, text, values });
        break;
      }
      case 'ARG': {
        const argMatch = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
        if (!argMatch?.[1]) throw new DockerfileError(line, 'ARG takes NAME or NAME=default');
        const name = argMatch[1];
        const given = buildArgs.get(name);
        const defaultValue = argMatch[2] === undefined ? undefined : substitute(argMatch[2].replace(/^"(.*)"$/, '$1'), variables);
        const value = given ?? defaultValue;
        if (value !== undefined) variables.set(name, value);
        instructions.push({ kind: 'arg', line, text, name, defaultValue: value });
        break;
      }
      case 'WORKDIR':
        instructions.push({ kind: 'workdir', line, text, path: substitute(rest, variables) });
        break;
      case 'USER':
        instructions.push({ kind: 'user', line, text, user: substitute(rest, variables) });
        break;
      case 'CMD':
      case 'ENTRYPOINT':
        instructions.push({ kind: 'start', line, text, command: jsonArray(rest, line) ?? rest });
        break;
      case 'LABEL':
        instructions.push({ kind: 'label', line, text, values: keyValues(rest, line, 'LABEL') });
        break;
      case 'EXPOSE':
        instructions.push({ kind: 'expose', line, text, ports: words(substitute(rest, variables)) });
        break;
      default:
        throw new DockerfileError(line, `unknown instruction ${keyword}`);
    }
  }
  if (!sawFrom) throw new DockerfileError(1, 'no FROM instruction: start with e.g. FROM debian:bookworm');
  return { instructions };
}
