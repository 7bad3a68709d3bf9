// Memory-snapshot scenarios on gVisor: resume of a paused 256 MiB sandbox, busy and idle (connect→first output
// through the SDK), and a template whose start command really initialises, ready from its snapshot vs started cold.
import { Sandbox } from 'e2b';
import { apiRequest } from '../cli/api-client.js';
import { elapsedMs, sdkOptions, type BenchContext } from './bench-context.js';

export const SNAPSHOT_TEMPLATE_HINT =
  "build them once: put init.py (imports a few modules, sleeps 1.5 s, writes /tmp/ready, serves) beside a Dockerfile 'FROM base / LABEL hearth.backend=gvisor hearth.snapshot=true / COPY init.py /opt/init.py' and run hearth template build -t warm-python . --start-cmd 'python3 /opt/init.py' --ready-cmd 'test -f /tmp/ready'; the same without hearth.snapshot=true as warm-python-cold";

/** Fills about 200 MiB (not zero pages) in a Python process, so the image holds what a busy sandbox holds. */
const MEMORY_FILLER = `python3 -c 'import os, time; block = os.urandom(1 << 20); data = [bytearray(block) for _ in range(200)]; open("/tmp/filled", "w").write("1"); time.sleep(86400)'`;
/** After a pause, the sentry's leftovers are deleted in the background; a resume measured right away would wait for that. */
const SETTLE_MS = 3000;

async function hasTemplate(context: BenchContext, templateId: string): Promise<boolean> {
  const templates = await apiRequest<Array<{ templateID?: string; aliases?: string[] }>>(context.client, 'GET', '/templates');
  return templates.some((template) => template.templateID === templateId || template.aliases?.includes(templateId));
}

/**
 * Resume of one paused 256 MiB gVisor sandbox, connect→first output, `runs` times: `busy` fills 200 MiB first
 * (what the image of a working sandbox holds), otherwise the sandbox is idle, which leaves runsc's fixed cost.
 */
export async function measureResume(context: BenchContext, gvisorTemplateId: string, runs: number, busy: boolean): Promise<number[] | string> {
  if (!(await hasTemplate(context, gvisorTemplateId))) return `no template "${gvisorTemplateId}" (a template labelled hearth.backend=gvisor) on the server`;
  const label = busy ? 'gVisor resume of a paused 256 MiB sandbox' : 'gVisor resume of an idle paused 256 MiB sandbox';
  const created = await apiRequest<{ sandboxID: string }>(context.client, 'POST', '/sandboxes', { templateID: gvisorTemplateId, memoryMB: 256, timeout: 3600 });
  const id = created.sandboxID;
  const samples: number[] = [];
  try {
    let sandbox = await Sandbox.connect(id, sdkOptions(context));
    if (busy) {
      await sandbox.commands.run(MEMORY_FILLER, { background: true });
      await sandbox.commands.run('for i in $(seq 1 300); do test -f /tmp/filled && exit 0; sleep 0.1; done; exit 1');
    }
    for (let index = 0; index < runs; index++) {
      await sandbox.pause();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const started = process.hrtime.bigint();
      sandbox = await Sandbox.connect(id, { ...sdkOptions(context), timeoutMs: 3_600_000 });
      await sandbox.commands.run('true');
      samples.push(elapsedMs(started));
      context.progress(label, index + 1, runs);
    }
  } finally {
    await Sandbox.kill(id, sdkOptions(context)).catch(() => undefined);
  }
  return samples;
}

/** create→first output of the same initialising template from its snapshot and cold. */
export async function measureSnapshotTemplate(context: BenchContext, snapshotTemplateId: string, coldTemplateId: string, runs: number): Promise<{ restored: number[]; cold: number[] } | string> {
  for (const id of [snapshotTemplateId, coldTemplateId]) if (!(await hasTemplate(context, id))) return `no template "${id}" on the server: ${SNAPSHOT_TEMPLATE_HINT}`;
  const measure = async (templateId: string, label: string): Promise<number[]> => {
    const samples: number[] = [];
    for (let index = 0; index < runs + 1; index++) {
      const started = process.hrtime.bigint();
      const sandbox = await Sandbox.create(templateId, sdkOptions(context));
      await sandbox.commands.run('cat /tmp/ready');
      // the first create of the snapshot template may be the one that takes its snapshot: not a sample
      if (index > 0) samples.push(elapsedMs(started));
      await sandbox.kill();
      context.progress(label, index + 1, runs + 1);
    }
    return samples;
  };
  return {
    restored: await measure(snapshotTemplateId, 'snapshot-started template, create→ready'),
    cold: await measure(coldTemplateId, 'same template started cold, create→ready'),
  };
}
