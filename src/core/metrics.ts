// In-process metrics: counters and latency histograms, rendered in Prometheus text format.

export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RECENT_SAMPLES = 2048;

export class LatencyHistogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_SECONDS.length).fill(0);
  sumSeconds = 0;
  count = 0;
  private readonly recent: number[] = [];
  private next = 0;

  observe(seconds: number): void {
    this.count += 1;
    this.sumSeconds += seconds;
    LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
      if (seconds <= bound) this.counts[index] = (this.counts[index] ?? 0) + 1;
    });
    if (this.recent.length < RECENT_SAMPLES) this.recent.push(seconds);
    else this.recent[this.next] = seconds;
    this.next = (this.next + 1) % RECENT_SAMPLES;
  }

  /** Exact percentile over the most recent samples (up to 2048), in milliseconds. */
  percentileMs(p: number): number | undefined {
    if (this.recent.length === 0) return undefined;
    const sorted = [...this.recent].sort((a, b) => a - b);
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return (sorted[index] ?? 0) * 1000;
  }

  get recentCount(): number {
    return this.recent.length;
  }
}

export type CreatePath = 'pool_hit' | 'cold';

export class Metrics {
  readonly creates: Record<CreatePath, number> = { pool_hit: 0, cold: 0 };
  readonly createLatency: Record<CreatePath, LatencyHistogram> = { pool_hit: new LatencyHistogram(), cold: new LatencyHistogram() };
  createFailures = 0;

  recordCreate(path: CreatePath, seconds: number): void {
    this.creates[path] += 1;
    this.createLatency[path].observe(seconds);
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

/** Renders one metric family in Prometheus text exposition format. */
export function renderFamily(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: string[]): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${samples.join('\n')}\n`;
}

export function sampleLine(name: string, labels: Record<string, string>, value: number): string {
  const entries = Object.entries(labels);
  const labelText = entries.length ? `{${entries.map(([key, v]) => `${key}="${escapeLabel(v)}"`).join(',')}}` : '';
  return `${name}${labelText} ${value}`;
}

export function histogramLines(name: string, labels: Record<string, string>, histogram: LatencyHistogram): string[] {
  const lines = LATENCY_BUCKETS_SECONDS.map((bound, index) => sampleLine(`${name}_bucket`, { ...labels, le: String(bound) }, histogram.counts[index] ?? 0));
  lines.push(sampleLine(`${name}_bucket`, { ...labels, le: '+Inf' }, histogram.count));
  lines.push(sampleLine(`${name}_sum`, labels, histogram.sumSeconds));
  lines.push(sampleLine(`${name}_count`, labels, histogram.count));
  return lines;
}
