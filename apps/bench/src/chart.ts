/**
 * Draws docs/benchmarks.svg from the JSON results in apps/bench/results (never by hand): HTTP throughput per
 * variant, the measured ratios against their targets, and the operations' p95 latency on Redis and PostgreSQL.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const httpSchema = z.object({
  date: z.string(),
  results: z.record(z.string(), z.object({ name: z.string(), requestsPerSec: z.number(), p99: z.number() })),
  ratios: z.array(z.object({ label: z.string(), value: z.number(), target: z.number().optional() })),
});
const figureSchema = z.object({ p95: z.number().optional(), p99: z.number().optional() });
const operationsSchema = z.object({
  results: z.object({
    redis: z.record(z.string(), figureSchema),
    postgres: z.record(z.string(), figureSchema),
  }),
});

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`../results/${name}.json`, import.meta.url), 'utf8'));
const http = httpSchema.parse(read('http'));
const operations = operationsSchema.parse(read('operations'));

const WIDTH = 900;
const LABEL = 330;
const BAR = 18;
const GAP = 8;
const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const parts: string[] = [];
let y = 20;

function title(text: string) {
  y += 14;
  parts.push(`<text x="10" y="${y}" font-size="15" font-weight="bold">${xmlText(text)}</text>`);
  y += 14;
}

function bar(label: string, value: number, max: number, color: string, caption: string, target?: number) {
  const scale = (WIDTH - LABEL - 120) / max;
  parts.push(
    `<text x="${LABEL - 8}" y="${y + BAR - 5}" font-size="12" text-anchor="end">${xmlText(label)}</text>`,
  );
  parts.push(
    `<rect x="${LABEL}" y="${y}" width="${Math.max(1, value * scale).toFixed(1)}" height="${BAR}" fill="${color}"/>`,
  );
  parts.push(
    `<text x="${LABEL + value * scale + 6}" y="${y + BAR - 5}" font-size="12">${xmlText(caption)}</text>`,
  );
  if (target !== undefined) {
    const x = LABEL + target * scale;
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${y - 3}" y2="${y + BAR + 3}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>`,
    );
  }
  y += BAR + GAP;
}

title(
  `HTTP: requests per second, same route, same Redis (median of interleaved rounds, ${http.date.slice(0, 10)})`,
);
const variants = Object.entries(http.results).sort(([a], [b]) => a.localeCompare(b));
const maxRps = Math.max(...variants.map(([, v]) => v.requestsPerSec));
for (const [key, variant] of variants) {
  const sessionKit = ['c', 'd', 'e', 'g'].includes(key);
  bar(
    variant.name,
    variant.requestsPerSec,
    maxRps,
    sessionKit ? '#2b6cb0' : '#a0aec0',
    `${Math.round(variant.requestsPerSec).toLocaleString('en-US')} req/s, p99 ${variant.p99} ms`,
  );
}

title('Ratios against their targets (dashed line = target; green = met, red = missed)');
const maxRatio = Math.max(1.3, ...http.ratios.map((r) => r.value));
for (const ratio of http.ratios) {
  const met = ratio.target === undefined ? undefined : ratio.value >= ratio.target;
  bar(
    ratio.label,
    ratio.value,
    maxRatio,
    met === undefined ? '#a0aec0' : met ? '#38a169' : '#e53e3e',
    `${ratio.value.toFixed(2)}${ratio.target === undefined ? '' : ` (target ≥ ${ratio.target})`}`,
    ratio.target,
  );
}

title('Session operations, 32 concurrent callers: p95 latency in ms (dashed line = target)');
const targets: Record<string, number> = { create: 50, validate: 10, 'validate, 1 caller': 10, refresh: 100 };
const names = Object.keys(operations.results.redis);
const maxLatency = Math.max(
  100,
  ...names.flatMap((name) => [
    operations.results.redis[name]?.p95 ?? 0,
    operations.results.postgres[name]?.p95 ?? 0,
  ]),
);
for (const name of names) {
  for (const backend of ['redis', 'postgres'] as const) {
    const figure = operations.results[backend][name];
    if (!figure?.p95) continue;
    bar(
      `${name} (${backend === 'redis' ? 'Redis' : 'PostgreSQL'})`,
      figure.p95,
      maxLatency,
      backend === 'redis' ? '#c53030' : '#2c5282',
      `p95 ${figure.p95.toFixed(2)} ms, p99 ${figure.p99?.toFixed(2)} ms`,
      targets[name],
    );
  }
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
const out = new URL('../../../docs/benchmarks.svg', import.meta.url);
writeFileSync(out, svg);
console.log(`wrote ${out.pathname}`);
