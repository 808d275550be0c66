// Loss and accuracy curves from metrics.jsonl as a standalone SVG (no plotting dependency).
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function panel(x: number, title: string, series: Series[], w: number, h: number): string {
  const all = series.flatMap((s) => s.points);
  if (!all.length) return '';
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const sx = (v: number) => x + 50 + ((v - x0) / Math.max(1e-9, x1 - x0)) * (w - 70);
  const sy = (v: number) => 30 + (1 - (v - y0) / Math.max(1e-9, y1 - y0)) * (h - 70);
  const lines = series
    .filter((s) => s.points.length)
    .map((s, i) => {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/><text x="${x + 60 + i * 120}" y="${h - 10}" fill="${s.color}" font-size="12">${s.name}</text>`;
    })
    .join('');
  const axis = `<rect x="${x + 50}" y="30" width="${w - 70}" height="${h - 70}" fill="none" stroke="#999"/>` +
    `<text x="${x + 50}" y="20" font-size="13">${title}</text>` +
    `<text x="${x + 5}" y="35" font-size="10">${y1.toPrecision(3)}</text><text x="${x + 5}" y="${h - 40}" font-size="10">${y0.toPrecision(3)}</text>` +
    `<text x="${x + 50}" y="${h - 25}" font-size="10">step ${x0}</text><text x="${x + w - 60}" y="${h - 25}" font-size="10">${x1}</text>`;
  return axis + lines;
}

/** Writes two panels: training/validation loss, and validation accuracy, by optimizer step. */
export function writeCurves(svgPath: string, metricsPath: string): void {
  const records = existsSync(metricsPath)
    ? readFileSync(metricsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number | string>)
    : [];
  const steps = records.filter((r) => r.type === 'step'), evals = records.filter((r) => r.type === 'eval');
  // smooth the training loss over a window so the curve is readable
  const win = Math.max(1, Math.round(steps.length / 50));
  const smooth: [number, number][] = [];
  for (let i = 0; i < steps.length; i += win) {
    const part = steps.slice(i, i + win);
    smooth.push([Number(part[part.length - 1]!.step), part.reduce((s, r) => s + Number(r.loss), 0) / part.length]);
  }
  const w = 480, h = 300;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * w}" height="${h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>` +
    panel(0, 'loss', [
      { name: 'train', color: '#1f77b4', points: smooth },
      { name: 'validation', color: '#d62728', points: evals.map((r) => [Number(r.step), Number(r.loss)]) },
    ], w, h) +
    panel(w, 'validation accuracy', [{ name: 'validation', color: '#2ca02c', points: evals.map((r) => [Number(r.step), Number(r.accuracy)]) }], w, h) +
    '</svg>\n';
  writeFileAtomic(svgPath, [new TextEncoder().encode(svg)]);
}
