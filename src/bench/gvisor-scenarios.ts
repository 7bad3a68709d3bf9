// gVisor create→first output through the SDK: pool hits and cold starts of a template whose sandboxes run
// on gVisor (label hearth.backend=gvisor), measured with the same cycles as the namespaces scenarios.
import { apiRequest } from '../cli/api-client.js';
import type { BenchContext } from './bench-context.js';
import { setPoolTarget } from './bench-context.js';
import { measureColdStarts, measureExecRoundTrip, measurePoolHits } from './create-scenarios.js';

export const GVISOR_TEMPLATE_HINT =
  "build it once with: printf 'FROM base\\nLABEL hearth.backend=gvisor\\n' > Dockerfile && hearth template build -t base-gvisor .";

export interface GvisorSamples {
  poolHit: number[];
  cold: number[];
  /** The same first command in an already running sandbox: what a pool hit costs beyond the claim. */
  execRoundTrip: number[];
}

/** Undefined with a reason when the server has no such template. */
export async function measureGvisor(context: BenchContext, templateId: string): Promise<GvisorSamples | string> {
  const templates = await apiRequest<Array<{ templateID?: string; aliases?: string[] }>>(context.client, 'GET', '/templates');
  if (!templates.some((template) => template.templateID === templateId || template.aliases?.includes(templateId))) {
    return `no template "${templateId}" on the server: ${GVISOR_TEMPLATE_HINT}`;
  }
  const gvisor: BenchContext = { ...context, templateId, progress: (label, done, total) => context.progress(`gVisor ${label}`, done, total) };
  try {
    const poolHit = await measurePoolHits(gvisor, 0);
    const cold = await measureColdStarts(gvisor);
    const execRoundTrip = await measureExecRoundTrip(gvisor);
    return { poolHit, cold, execRoundTrip };
  } finally {
    await setPoolTarget(gvisor, 0).catch(() => undefined);
  }
}
