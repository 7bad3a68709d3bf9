// An SVG plot of a bench run: latency percentiles per scenario (log scale) and the concurrency ramp.
import type { BenchResult } from './bench-result.js';
import type { LatencySummary } from './latency-stats.js';

const WIDTH = 900;
const ROW_HEIGHT = 34;
const LEFT = 300;
const RIGHT = 40;

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function renderPlot(result: BenchResult): string {
  const rows: Array<{ label: string; summary: LatencySummary }> = [];
  if (result.createPoolHit) rows.push({ label: 'create→first output, pool hit', summary: result.createPoolHit });
  if (result.createCold) rows.push({ label: 'create→first output, cold', summary: result.createCold });
  if (result.execRoundTrip) rows.push({ label: 'exec round trip', summary: result.execRoundTrip });
  for (const floor of result.floors) if (floor.latency) rows.push({ label: `floor: ${floor.name} /bin/true`, summary: floor.latency });
  const values = rows.flatMap((row) => [row.summary.minMs, row.summary.maxMs]).filter((v) => v > 0);
  const minMs = Math.max(0.1, Math.min(...values, 1) / 1.5);
  const maxMs = Math.max(...values, 10) * 1.5;
  const x = (valueMs: number): number => LEFT + ((Math.log10(Math.max(valueMs, minMs)) - Math.log10(minMs)) / (Math.log10(maxMs) - Math.log10(minMs))) * (WIDTH - LEFT - RIGHT);
  const top = 50;
  const latencyHeight = rows.length * ROW_HEIGHT;
  const ramp = result.ramp?.steps ?? [];
  const rampTop = top + latencyHeight + 80;
  const rampHeight = ramp.length ? 200 : 0;
  const height = ramp.length ? rampTop + rampHeight + 60 : top + latencyHeight + 30;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">hearth bench: ${escapeXml(result.startedAt)} on ${result.machine.cores} cores, kernel ${escapeXml(result.machine.kernel)}</text>`);
  parts.push(`<text x="10" y="38" fill="#555">latency in ms (log scale): bar min–max, box p50–p95, tick p99</text>`);
  for (const tick of [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000]) {
    if (tick < minMs || tick > maxMs) continue;
    parts.push(`<line x1="${x(tick)}" y1="${top}" x2="${x(tick)}" y2="${top + latencyHeight}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(tick)}" y="${top + latencyHeight + 14}" text-anchor="middle" fill="#555">${tick}</text>`);
  }
  rows.forEach((row, index) => {
    const y = top + index * ROW_HEIGHT + ROW_HEIGHT / 2;
    const s = row.summary;
    const color = row.label.startsWith('floor') ? '#888' : '#c0392b';
    parts.push(`<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end">${escapeXml(row.label)}</text>`);
    parts.push(`<line x1="${x(s.minMs)}" y1="${y}" x2="${x(s.maxMs)}" y2="${y}" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${x(s.p50Ms)}" y="${y - 8}" width="${Math.max(2, x(s.p95Ms) - x(s.p50Ms))}" height="16" fill="${color}" opacity="0.6"/>`);
    parts.push(`<line x1="${x(s.p99Ms)}" y1="${y - 10}" x2="${x(s.p99Ms)}" y2="${y + 10}" stroke="black" stroke-width="2"/>`);
    parts.push(`<text x="${x(s.maxMs) + 6}" y="${y + 4}" fill="#333">p50 ${s.p50Ms.toFixed(2)}</text>`);
  });
  if (ramp.length) {
    const maxRate = Math.max(...ramp.map((step) => step.createsPerSecond), 1) * 1.2;
    const maxP99 = Math.max(...ramp.map((step) => step.latency.p99Ms), 1) * 1.2;
    const plotLeft = 80;
    const plotWidth = WIDTH - plotLeft - 80;
    const px = (index: number): number => plotLeft + (ramp.length === 1 ? plotWidth / 2 : (index / (ramp.length - 1)) * plotWidth);
    const py = (value: number, max: number): number => rampTop + rampHeight - (value / max) * rampHeight;
    parts.push(`<text x="10" y="${rampTop - 20}" font-size="14" font-weight="bold">concurrency ramp: creates/s (red) and p99 ms (blue)</text>`);
    parts.push(`<line x1="${plotLeft}" y1="${rampTop + rampHeight}" x2="${plotLeft + plotWidth}" y2="${rampTop + rampHeight}" stroke="#333"/>`);
    const rateLine = ramp.map((step, index) => `${px(index)},${py(step.createsPerSecond, maxRate)}`).join(' ');
    const p99Line = ramp.map((step, index) => `${px(index)},${py(step.latency.p99Ms, maxP99)}`).join(' ');
    parts.push(`<polyline points="${rateLine}" fill="none" stroke="#c0392b" stroke-width="2"/>`);
    parts.push(`<polyline points="${p99Line}" fill="none" stroke="#2c6fbb" stroke-width="2"/>`);
    ramp.forEach((step, index) => {
      parts.push(`<text x="${px(index)}" y="${rampTop + rampHeight + 16}" text-anchor="middle">×${step.concurrency}</text>`);
      parts.push(`<text x="${px(index)}" y="${py(step.createsPerSecond, maxRate) - 6}" text-anchor="middle" fill="#c0392b">${step.createsPerSecond.toFixed(0)}/s</text>`);
      parts.push(`<text x="${px(index)}" y="${py(step.latency.p99Ms, maxP99) + 16}" text-anchor="middle" fill="#2c6fbb">${step.latency.p99Ms.toFixed(0)} ms</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('\n');
}
