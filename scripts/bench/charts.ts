/**
 * report.html: self-contained (inline SVG and CSS, no script). Chart (a): latency percentiles against the
 * offered rate of each open-loop run or capacity step, log scale. Chart (b): CPU ms per unit of work by
 * group, stacked, per phase. Then the console report as text.
 */
import { CPU_GROUPS } from "./cpu.ts";
import { msPerUnit, type PhaseCost } from "./phase.ts";
import type { Results } from "./results.ts";

const W = 760;
const H = 340;
const M = { left: 64, right: 170, top: 30, bottom: 48 };
const COLORS: Record<string, string> = { shop: "#4e79a7", pg: "#f28e2b", mq: "#59a14f", gen: "#bab0ac", other: "#e15759" };

export const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const f = (n: number) => (Math.round(n * 10) / 10).toString();

interface Series {
  name: string;
  color: string;
  dash: string;
  points: Array<{ x: number; y: number }>;
}

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${f(x)}" y="${f(y)}" ${attrs}>${esc(s)}</text>`;
}

function legend(entries: Array<{ name: string; color: string; dash?: string }>): string {
  return entries
    .map((e, i) => {
      const y = M.top + 10 + i * 18;
      const x = W - M.right + 14;
      return `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${e.color}" stroke-width="3" stroke-dasharray="${e.dash ?? ""}"/>${text(x + 28, y + 4, e.name)}`;
    })
    .join("");
}

function latencySeries(r: Results): Series[] {
  const steps = [...(r.openLoop ? [r.openLoop] : []), ...(r.capacity?.steps ?? [])].sort((a, b) => a.rate - b.rate);
  const pick = (name: string, color: string, dash: string, get: (s: (typeof steps)[number]) => number) => ({
    name, color, dash, points: steps.map((s) => ({ x: s.rate, y: get(s) })),
  });
  return [
    pick("confirmed p99", "#e15759", "", (s) => s.confirm.p99),
    pick("confirmed p50", "#e15759", "6 4", (s) => s.confirm.p50),
    pick("POST p99", "#4e79a7", "", (s) => s.post.toJSON().stats.p99),
    pick("POST p50", "#4e79a7", "6 4", (s) => s.post.toJSON().stats.p50),
  ];
}

/** (a) Latency percentiles (log scale) against offered rate; the SLO as a dashed line. */
export function latencyChart(r: Results): string {
  const series = latencySeries(r);
  const xs = series[0]!.points.map((p) => p.x);
  if (xs.length === 0) return "<p>No open-loop run or capacity step: no latency chart.</p>";
  const finite = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y) && y > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...finite, r.options.sloMs))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...finite, r.options.sloMs) * 1.01));
  const xMax = Math.max(...xs) * 1.15;
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => (Number.isFinite(y) ? H - M.bottom - ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - M.top - M.bottom) : M.top - 8);
  const parts: string[] = [];
  for (let v = lo; v <= hi; v *= 10) parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#ddd"/>`, text(M.left - 6, py(v) + 4, v >= 1000 ? `${v / 1000} s` : `${v} ms`, 'text-anchor="end"'));
  const xStep = niceCeil(xMax / 6);
  for (let x = 0; x <= xMax; x += xStep) parts.push(`<line x1="${f(px(x))}" x2="${f(px(x))}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}" stroke="#333"/>`, text(px(x), H - M.bottom + 18, String(x), 'text-anchor="middle"'));
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f(py(r.options.sloMs))}" y2="${f(py(r.options.sloMs))}" stroke="#333" stroke-dasharray="2 3"/>`);
  parts.push(text(M.left + 4, py(r.options.sloMs) - 4, `SLO: p99 < ${r.options.sloMs} ms`, 'fill="#555"'));
  for (const s of series) {
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${f(px(p.x))},${f(py(p.y))}`).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`);
    for (const p of s.points) parts.push(`<circle cx="${f(px(p.x))}" cy="${f(py(p.y))}" r="3" fill="${Number.isFinite(p.y) ? s.color : "#000"}"><title>${esc(`${s.name} at ${p.x}/s: ${Number.isFinite(p.y) ? `${f(p.y)} ms` : "never (an order not confirmed)"}`)}</title></circle>`);
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  parts.push(text((M.left + W - M.right) / 2, H - 8, "offered rate (orders/s)", 'text-anchor="middle"'), text(M.left, 16, "latency from scheduled send (ms, log scale; points above the plot: ∞)"));
  return svg(parts.join("") + legend(series));
}

/** (b) CPU ms per unit of work by group, stacked bars, one per phase. */
export function cpuChart(costs: PhaseCost[]): string {
  const bars = costs.filter((c) => c.units > 0);
  if (bars.length === 0) return "<p>No phase completed any work: no CPU chart.</p>";
  const totals = bars.map((c) => CPU_GROUPS.reduce((n, g) => n + (msPerUnit(c)[g] || 0), 0));
  const yMax = niceCeil(Math.max(...totals, 0.001));
  const slot = (W - M.left - M.right) / bars.length;
  const py = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#ddd"/>`, text(M.left - 6, py(v) + 4, f(v), 'text-anchor="end"'));
  }
  bars.forEach((c, i) => {
    const per = msPerUnit(c);
    const x = M.left + i * slot + slot * 0.15;
    let base = 0;
    for (const g of CPU_GROUPS) {
      const v = per[g] || 0;
      parts.push(`<rect x="${f(x)}" y="${f(py(base + v))}" width="${f(slot * 0.7)}" height="${f(py(base) - py(base + v))}" fill="${COLORS[g]}"><title>${esc(`${c.name}: ${g} ${f(v)} ms per ${c.unit}`)}</title></rect>`);
      base += v;
    }
    parts.push(text(x + slot * 0.35, py(base) - 4, f(base), 'text-anchor="middle"'));
    parts.push(text(x + slot * 0.35, H - M.bottom + 14, c.name, `text-anchor="middle" font-size="${bars.length > 8 ? 9 : 11}"`));
    parts.push(text(x + slot * 0.35, H - M.bottom + 27, `per ${c.unit}`, 'text-anchor="middle" font-size="9" fill="#666"'));
  });
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`, text(M.left, 16, "CPU ms per unit of work, by group"));
  return svg(parts.join("") + legend(CPU_GROUPS.map((g) => ({ name: g, color: COLORS[g]! }))));
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">${body}</svg>`;

export function renderHtml(r: Results, costs: PhaseCost[], reportText: string[] = []): string {
  const title = `shop bench ${r.mode} ${r.startedAt} ${r.git.commit}${r.git.dirty ? " (dirty)" : ""}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}pre{font-size:12px;background:#f6f6f6;padding:12px;overflow-x:auto}h2{font-size:16px;margin-top:28px}</style>
</head><body>
<h1 style="font-size:20px">${esc(title)}</h1>
<h2>(a) Latency against offered rate</h2>
${latencyChart(r)}
<h2>(b) CPU per unit of work, by phase</h2>
${cpuChart(costs)}
<h2>Report</h2>
<pre>${esc(reportText.join("\n"))}</pre>
</body></html>
`;
}
