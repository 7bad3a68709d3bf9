// Charts for the dashboard, drawn as SVG elements built with the DOM (no markup strings from data).

const SVG_NS = 'http://www.w3.org/2000/svg';

function el(name, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Create-latency histogram: bars per bucket (pool hits and cold starts stacked), log-spaced buckets,
 * vertical lines at p50, p95 and p99.
 * @param {{boundsMs: number[], cumulativeCounts: {pool_hit: number[], cold: number[]}, totals: {pool_hit: number, cold: number}}} histogram
 * @param {{pool_hit: {p50Ms?: number, p95Ms?: number, p99Ms?: number}, cold: {p50Ms?: number, p95Ms?: number, p99Ms?: number}}} latency
 */
export function renderHistogram(histogram, latency) {
  const width = 900;
  const height = 260;
  const left = 50;
  const bottom = 40;
  const top = 20;
  const svg = el('svg', { xmlns: SVG_NS, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'create latency histogram' });
  const perBucket = (cumulative, total) => {
    const counts = cumulative.map((count, index) => count - (index > 0 ? cumulative[index - 1] : 0));
    counts.push(total - (cumulative[cumulative.length - 1] ?? 0));
    return counts;
  };
  const hits = perBucket(histogram.cumulativeCounts.pool_hit, histogram.totals.pool_hit);
  const colds = perBucket(histogram.cumulativeCounts.cold, histogram.totals.cold);
  const labels = [...histogram.boundsMs.map((bound) => `≤${bound < 1 ? bound.toFixed(1) : bound}`), `>${histogram.boundsMs[histogram.boundsMs.length - 1]}`];
  const maxCount = Math.max(1, ...hits.map((count, index) => count + colds[index]));
  const slot = (width - left - 10) / labels.length;
  const y = (count) => height - bottom - (count / maxCount) * (height - top - bottom);
  svg.append(el('line', { x1: left, y1: height - bottom, x2: width - 10, y2: height - bottom, stroke: '#333' }));
  svg.append(el('text', { x: 4, y: top + 4, 'font-size': 11, fill: '#555' }, `${maxCount}`));
  labels.forEach((label, index) => {
    const x = left + index * slot;
    const hitTop = y(hits[index]);
    svg.append(el('rect', { x: x + 2, y: hitTop, width: slot - 4, height: height - bottom - hitTop, fill: '#2c6fbb', class: 'bar-pool-hit' }));
    const coldTop = y(hits[index] + colds[index]);
    svg.append(el('rect', { x: x + 2, y: coldTop, width: slot - 4, height: hitTop - coldTop, fill: '#e67e22', class: 'bar-cold' }));
    svg.append(el('text', { x: x + slot / 2, y: height - bottom + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }, label));
  });
  svg.append(el('text', { x: width / 2, y: height - 6, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' }, 'create latency bucket (ms) — blue: pool hit, orange: cold start'));
  // Percentile lines: positioned by which bucket holds the value, interpolated linearly inside it.
  const xForMs = (ms) => {
    const bounds = histogram.boundsMs;
    let index = bounds.findIndex((bound) => ms <= bound);
    if (index < 0) index = bounds.length;
    const low = index === 0 ? 0 : bounds[index - 1];
    const high = bounds[index] ?? low * 2;
    const fraction = high > low ? Math.min(1, Math.max(0, (ms - low) / (high - low))) : 0.5;
    return left + (index + fraction) * slot;
  };
  const source = latency.pool_hit.p50Ms !== undefined && histogram.totals.pool_hit >= histogram.totals.cold ? ['pool hit', latency.pool_hit] : ['cold', latency.cold];
  const [sourceName, summary] = source;
  const marks = [['p50', summary.p50Ms, '#1a7f37'], ['p95', summary.p95Ms, '#9a6700'], ['p99', summary.p99Ms, '#cf222e']];
  marks.forEach(([name, value, color], index) => {
    if (value === undefined || value === null) return;
    const x = xForMs(value);
    svg.append(el('line', { x1: x, y1: top, x2: x, y2: height - bottom, stroke: color, 'stroke-width': 2, 'stroke-dasharray': '5 3', class: `percentile-${name}` }));
    svg.append(el('line', { x1: width - 230, y1: top + 8 + index * 14, x2: width - 214, y2: top + 8 + index * 14, stroke: color, 'stroke-width': 2, 'stroke-dasharray': '5 3' }));
    svg.append(el('text', { x: width - 208, y: top + 12 + index * 14, 'font-size': 11, fill: color }, `${name} (${sourceName}) ${value.toFixed(2)} ms`));
  });
  return svg;
}
