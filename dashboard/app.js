// Hearth dashboard: asks for the API key once, then polls the admin API and renders sandboxes, pools,
// templates, the create-latency histogram and the last bench result. Actions: kill a sandbox, resize a pool.
import { renderHistogram } from './charts.js';

const KEY_STORAGE = 'hearth.apiKey';
const POLL_MS = 1000;
const $ = (selector) => document.querySelector(selector);
let apiKey = localStorage.getItem(KEY_STORAGE) ?? '';
let timer;
const previousCpu = new Map();

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'x-api-key': apiKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 401) throw Object.assign(new Error('the API key was refused'), { unauthorized: true });
  if (!response.ok && response.status !== 404) {
    let message = `${response.status}`;
    try { message = (await response.json()).message ?? message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  if (response.status === 404 || response.status === 204) return undefined;
  const type = response.headers.get('content-type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function duration(ms) {
  if (ms < 0) return 'expired';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

function bytes(value) {
  if (value === undefined || value === null) return '-';
  return value > 1048576 ? `${(value / 1048576).toFixed(1)} MiB` : `${(value / 1024).toFixed(0)} KiB`;
}

function renderSandboxes(rows) {
  const body = $('#sandboxes tbody');
  body.replaceChildren();
  $('#sandbox-count').textContent = `(${rows.length})`;
  const now = Date.now();
  for (const row of rows) {
    const tr = document.createElement('tr');
    tr.dataset.sandboxId = row.sandboxId;
    const id = document.createElement('td');
    const code = document.createElement('code');
    code.textContent = row.sandboxId;
    id.append(code);
    const usage = row.usage ?? {};
    const previous = previousCpu.get(row.sandboxId);
    let cpu = '-';
    if (previous && usage.cpuUsageNs !== undefined) {
      const percent = ((usage.cpuUsageNs - previous.ns) / ((now - previous.atMs) * 1e6)) * 100;
      cpu = `${Math.max(0, percent).toFixed(1)}%`;
    }
    previousCpu.set(row.sandboxId, { ns: usage.cpuUsageNs ?? 0, atMs: now });
    const kill = document.createElement('button');
    kill.type = 'button';
    kill.className = 'danger kill';
    kill.textContent = 'kill';
    kill.addEventListener('click', async () => {
      kill.disabled = true;
      try { await api('DELETE', `/sandboxes/${encodeURIComponent(row.sandboxId)}`); } finally { await refresh(); }
    });
    const actions = document.createElement('td');
    actions.append(kill);
    tr.append(id, cell(row.templateId), cell(duration(now - Date.parse(row.startedAt))), cell(duration(Date.parse(row.endAt) - now)),
      cell(`${cpu} of ${row.cpuCount}`), cell(`${bytes(usage.memoryBytes)} / ${row.memoryMiB} MiB`), actions);
    body.append(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('no live sandboxes', 'empty');
    td.colSpan = 7;
    tr.append(td);
    body.append(tr);
  }
}

function renderPools(pools) {
  const body = $('#pools tbody');
  body.replaceChildren();
  for (const pool of pools) {
    const tr = document.createElement('tr');
    tr.dataset.templateId = pool.templateId;
    const form = document.createElement('form');
    form.className = 'resize';
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '0';
    input.max = '1000';
    input.value = String(pool.target);
    input.name = 'target';
    const button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'set';
    form.append(input, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      await api('PUT', `/admin/pools/${encodeURIComponent(pool.templateId)}`, { target: Number(input.value) });
      await refresh();
    });
    const resize = document.createElement('td');
    resize.append(form);
    tr.append(cell(pool.templateId), cell(String(pool.target)), cell(String(pool.ready)), cell(String(pool.starting)), cell(String(pool.claims)), cell(String(pool.misses)), resize);
    body.append(tr);
  }
}

function renderTemplates(templates) {
  const body = $('#templates tbody');
  body.replaceChildren();
  for (const template of templates) {
    const tr = document.createElement('tr');
    tr.append(cell(template.templateID), cell((template.aliases ?? []).join(', ')), cell(bytes(template.sizeBytes)), cell(String(template.cpuCount)), cell(`${template.memoryMB} MiB`));
    body.append(tr);
  }
}

let lastBenchAt;
async function renderBench() {
  const latest = await api('GET', '/admin/bench-results/latest');
  if (!latest || latest.startedAt === lastBenchAt) return;
  lastBenchAt = latest.startedAt;
  const svgText = await api('GET', '/admin/bench-results/latest.svg');
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  $('#bench').replaceChildren(document.importNode(parsed.documentElement, true));
}

async function refresh() {
  try {
    const [sandboxes, pools, templates, stats] = await Promise.all([
      api('GET', '/admin/sandboxes'),
      api('GET', '/admin/pools'),
      api('GET', '/templates'),
      api('GET', '/admin/stats'),
    ]);
    renderSandboxes(sandboxes);
    renderPools(pools);
    renderTemplates(templates);
    $('#histogram').replaceChildren(renderHistogram(stats.histogram, stats.createLatency));
    await renderBench();
    $('#status').textContent = `connected · ${stats.liveSandboxes} live · updated ${new Date().toLocaleTimeString()}`;
    $('#status').className = 'status ok';
  } catch (error) {
    $('#status').textContent = error.message;
    $('#status').className = 'status bad';
    if (error.unauthorized) showKeyForm('The API key was refused.');
  }
}

function showKeyForm(message) {
  clearInterval(timer);
  $('#app').hidden = true;
  $('#forget-key').hidden = true;
  $('#key-form').hidden = false;
  $('#key-error').hidden = !message;
  $('#key-error').textContent = message ?? '';
}

function start() {
  $('#key-form').hidden = true;
  $('#app').hidden = false;
  $('#forget-key').hidden = false;
  void refresh();
  clearInterval(timer);
  timer = setInterval(refresh, POLL_MS);
}

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  apiKey = $('#api-key').value.trim();
  localStorage.setItem(KEY_STORAGE, apiKey);
  start();
});
$('#forget-key').addEventListener('click', () => {
  localStorage.removeItem(KEY_STORAGE);
  apiKey = '';
  showKeyForm();
});

if (apiKey) start();
else showKeyForm();
