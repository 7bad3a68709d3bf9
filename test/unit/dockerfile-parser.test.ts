// Dockerfile parsing: supported instructions, continuations, variables, and refusals with line numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerfileError, parseDockerfile, substitute } from '../../src/templates/dockerfile/dockerfile-parser.js';

test('parses the supported instructions with line numbers and continuations', () => {
  const { instructions } = parseDockerfile(
    [
      '# syntax comment',
      'ARG SUITE=bookworm',
      'FROM debian:${SUITE}',
      'ENV APP_HOME=/srv/app GREETING="hello world"',
      'RUN apt-get update && \\',
      '    apt-get install -y cowsay',
      'WORKDIR $APP_HOME',
      'COPY --chown=user:user app.py config/ ./',
      'USER user',
      'EXPOSE 8000',
      'CMD ["python3", "-m", "http.server", "8000"]',
    ].join('\n'),
  );
  assert.deepEqual(instructions.map((i) => [i.kind, i.line]), [
    ['arg', 2], ['from', 3], ['env', 4], ['run', 5], ['workdir', 7], ['copy', 8], ['user', 9], ['expose', 10], ['start', 11],
  ]);
  const from = instructions[1];
  assert.equal(from?.kind === 'from' && from.image, 'debian:bookworm');
  const env = instructions[2];
  assert.deepEqual(env?.kind === 'env' && env.values, [['APP_HOME', '/srv/app'], ['GREETING', 'hello world']]);
  const run = instructions[3];
  assert.equal(run?.kind === 'run' && run.command, 'apt-get update && apt-get install -y cowsay');
  const workdir = instructions[4];
  assert.equal(workdir?.kind === 'workdir' && workdir.path, '/srv/app');
  const copy = instructions[5];
  assert.deepEqual(copy?.kind === 'copy' && [copy.sources, copy.destination, copy.chown], [['app.py', 'config/'], './', 'user:user']);
  const start = instructions[8];
  assert.deepEqual(start?.kind === 'start' && start.command, ['python3', '-m', 'http.server', '8000']);
});

test('build args override ARG defaults', () => {
  const { instructions } = parseDockerfile('ARG SUITE=bookworm\nFROM debian:$SUITE', new Map([['SUITE', 'trixie']]));
  assert.equal(instructions[1]?.kind === 'from' && instructions[1].image, 'debian:trixie');
});

test('variable substitution forms', () => {
  const vars = new Map([['A', 'x'], ['EMPTY', '']]);
  assert.equal(substitute('$A ${A} ${B:-dflt} ${A:+set} ${EMPTY:+no} \\$A', vars), 'x x dflt set  $A');
});

test('unsupported instructions fail with the line number and a way out', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['FROM debian:bookworm\nVOLUME /data', 2, /VOLUME is not supported/],
    ['FROM debian:bookworm\n\nHEALTHCHECK CMD true', 3, /ready-cmd/],
    ['FROM a AS b\nFROM c', 2, /multi-stage/],
    ['FROM debian:bookworm\nCOPY --from=b /x /y', 2, /multi-stage/],
    ['FROM debian:bookworm\nADD https://example.com/x.tgz /x', 2, /RUN curl/],
    ['FROM debian:bookworm\nRUN <<EOF\necho\nEOF', 2, /heredocs/],
    ['RUN echo hi', 1, /before FROM/],
    ['FROM debian:bookworm\nFROBNICATE now', 2, /unknown instruction FROBNICATE/],
    ['FROM debian:bookworm\nCMD ["unterminated"', 2, /JSON array/],
    ['# only a comment', 1, /no FROM/],
  ];
  for (const [source, line, message] of cases) {
    assert.throws(() => parseDockerfile(source), (error: unknown) => {
      assert.ok(error instanceof DockerfileError, source);
      assert.equal(error.line, line, source);
      assert.match(error.message, message);
      assert.match(error.message, new RegExp(`^Dockerfile line ${line}:`));
      return true;
    });
  }
});
