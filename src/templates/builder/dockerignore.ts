// .dockerignore matching: glob patterns relative to the context root, `!` re-includes, the last matching rule wins.

interface Rule {
  pattern: RegExp;
  include: boolean;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] ?? '';
    if (char === '*' && glob[index + 1] === '*') {
      out += '.*';
      index += 1;
      if (glob[index + 1] === '/') index += 1;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern matches the path itself or anything below it.
  return new RegExp(`^${out}(/.*)?$`);
}

export class DockerIgnore {
  private readonly rules: Rule[];

  constructor(text: string) {
    this.rules = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const include = line.startsWith('!');
        const body = (include ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
        return { pattern: globToRegExp(body), include };
      });
  }

  /** Whether a context-relative path (with `/` separators) is excluded. */
  ignores(relativePath: string): boolean {
    let ignored = false;
    for (const rule of this.rules) if (rule.pattern.test(relativePath)) ignored = !rule.include;
    return ignored;
  }
}
