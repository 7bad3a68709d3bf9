// The parsed form of a Dockerfile: one typed instruction per line Hearth can honour.

export interface SourceLine {
  /** 1-based line where the instruction starts. */
  line: number;
  /** The instruction as written (continuations joined), used in cache keys and logs. */
  text: string;
}

export type Instruction =
  | (SourceLine & { kind: 'from'; image: string })
  | (SourceLine & { kind: 'run'; command: string[] | string; user?: string })
  | (SourceLine & { kind: 'copy'; sources: string[]; destination: string; chown: string | undefined; fromUrl: false; mode?: number })
  | (SourceLine & { kind: 'env'; values: Array<[string, string]> })
  | (SourceLine & { kind: 'arg'; name: string; defaultValue: string | undefined })
  | (SourceLine & { kind: 'workdir'; path: string })
  | (SourceLine & { kind: 'user'; user: string })
  | (SourceLine & { kind: 'start'; command: string[] | string })
  | (SourceLine & { kind: 'label'; values: Array<[string, string]> })
  | (SourceLine & { kind: 'expose'; ports: string[] });

export interface ParsedDockerfile {
  instructions: Instruction[];
}
