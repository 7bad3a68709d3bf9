// A minimal leveled logger; the server logs one line per event to stderr.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleLogger(quiet = false): Logger {
  const stamp = (): string => new Date().toISOString();
  return {
    info: (message) => {
      if (!quiet) process.stderr.write(`${stamp()} info  ${message}\n`);
    },
    warn: (message) => process.stderr.write(`${stamp()} warn  ${message}\n`),
    error: (message) => process.stderr.write(`${stamp()} error ${message}\n`),
  };
}
