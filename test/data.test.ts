// The data path: MIME parsing, normalisation, loading user data (bad rows skipped and counted),
// de-duplication, stratified splits, the BPE tokenizer and the DataLoader.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dedupe, loadSpamAssassin, loadUserData, stratifiedSplit, type Example } from '../lib/data/corpus.js';
import { parseEmail } from '../lib/data/email.js';
import { DataLoader, windowIds } from '../lib/data/loader.js';
import { normalizeText } from '../lib/data/normalize.js';
import { SubwordTokenizer } from '../lib/data/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-data-'));

describe('e-mail parsing', () => {
  it('decodes quoted-printable and base64, drops attachments, turns HTML into text', async () => {
    const raw = [
      'From: a@example.com', 'Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?=', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="XX"', '',
      '--XX', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=C3=A9 au lait=', ' please', '',
      '--XX', 'Content-Type: application/octet-stream; name="x.bin"', 'Content-Disposition: attachment; filename="x.bin"', 'Content-Transfer-Encoding: base64', '', 'U0VDUkVUQVRUQUNITUVOVA==', '',
      '--XX--', '',
    ].join('\r\n');
    const e = await parseEmail(raw);
    expect(e.subject).toBe('Hello world');
    expect(e.body).toContain('café au lait please');
    expect(e.body).not.toContain('SECRETATTACHMENT');
    const html = await parseEmail(['Subject: offer', 'Content-Type: text/html', 'Content-Transfer-Encoding: base64', '', Buffer.from('<html><body><p>Buy <b>now</b>!</p></body></html>').toString('base64'), ''].join('\r\n'));
    expect(html.body).toMatch(/Buy now!/);
  });
  it('a malformed message still yields text, without throwing', async () => {
    const e = await parseEmail('this is not\r\na mail at all');
    expect(typeof e.body).toBe('string');
  });
});

describe('normalisation', () => {
  it('replaces URLs, addresses and numbers with placeholders and lower-cases', () => {
    expect(normalizeText('Visit http://x.com/a?b=1 or WWW.Spam.biz, mail Bob.S@Mail.example.org: WIN $1,000.50 NOW'))
      .toBe('visit urltoken or urltoken , mail emailtoken : win $ numtoken now');
  });
  it('optionally removes stop words and stems (Porter)', () => {
    expect(normalizeText('The runners were running to the meetings', { stopwords: true, stem: true })).toBe('runner run meet');
    expect(normalizeText('The runners', { stem: true })).toBe('the runner');
  });
});

describe('loading user data', () => {
  it('CSV and JSONL with text and label; bad rows skipped and counted', async () => {
    const csv = join(dir, 'd.csv');
    writeFileSync(csv, 'text,label\n"hello there",ham\n"cheap pills",spam\n"",ham\n"no label",\n"ok",ham\n');
    const c = await loadUserData(csv);
    expect(c.labels).toEqual(['ham', 'spam']);
    expect(c.examples.map((e) => [e.text, e.label])).toEqual([['hello there', 0], ['cheap pills', 1], ['ok', 0]]);
    expect(c.skipped.map((s) => s.reason)).toEqual(['empty text', 'missing label']);
    const jsonl = join(dir, 'd.jsonl');
    writeFileSync(jsonl, '{"text":"a b","label":"x"}\nnot json\n{"text":"c","label":"y"}\n{"text":"d","label":"z"}\n');
    const j = await loadUserData(jsonl, { labels: ['x', 'y'] });
    expect(j.examples).toHaveLength(2);
    expect(j.skipped.map((s) => s.reason)).toEqual(['invalid JSON', 'unknown label "z" (expected one of x, y)']);
  });
  it('a folder per class, and clear errors for bad sources', async () => {
    const root = join(dir, 'folders');
    for (const [cls, texts] of [['neg', ['bad', 'awful']], ['pos', ['good']]] as const) {
      mkdirSync(join(root, cls), { recursive: true });
      texts.forEach((t, i) => writeFileSync(join(root, cls, `${i}.txt`), t));
    }
    const c = await loadUserData(root);
    expect(c.labels).toEqual(['neg', 'pos']);
    expect(c.examples.map((e) => e.label)).toEqual([0, 0, 1]);
    await expect(loadUserData(join(dir, 'nope.csv'))).rejects.toThrow(/does not exist/);
    writeFileSync(join(dir, 'x.txt'), 'hi');
    await expect(loadUserData(join(dir, 'x.txt'))).rejects.toThrow(/must be a .csv or .jsonl file or a folder/);
    writeFileSync(join(dir, 'one.csv'), 'text,label\na,x\nb,x\n');
    await expect(loadUserData(join(dir, 'one.csv'))).rejects.toThrow(/at least two classes/);
    writeFileSync(join(dir, 'cols.csv'), 'body,y\na,x\n');
    await expect(loadUserData(join(dir, 'cols.csv'))).rejects.toThrow(/text and label columns/);
  });
  it('the SpamAssassin corpus parses from the raw messages', async () => {
    const c = await loadSpamAssassin({ limit: 40 });
    expect(c.labels).toEqual(['ham', 'spam']);
    expect(c.examples.length + c.skipped.length).toBe(40);
    expect(c.examples[0]!.id).toMatch(/^easy-ham-1\//);
    expect(c.examples.every((e) => e.text === e.text.toLowerCase())).toBe(true);
  });
});

describe('dedupe and split', () => {
  const ex = (n: number, label: number): Example[] => Array.from({ length: n }, (_, i) => ({ id: `${label}-${i}`, text: `t${label}-${i}`, label }));
  it('removes duplicate texts', () => {
    const c = { examples: [...ex(3, 0), { id: 'dup', text: 't0-1', label: 1 }], labels: ['a', 'b'], skipped: [] };
    expect(dedupe(c)).toBe(1);
    expect(c.examples.map((e) => e.id)).toEqual(['0-0', '0-1', '0-2']);
  });
  it('stratified 80/10/10, seeded, disjoint and complete', () => {
    const all = [...ex(300, 0), ...ex(100, 1)];
    const s = stratifiedSplit(all, 7);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([320, 40, 40]);
    expect(s.test.filter((e) => e.label === 1)).toHaveLength(10);
    expect(new Set([...s.train, ...s.val, ...s.test].map((e) => e.id)).size).toBe(400);
    expect(stratifiedSplit(all, 7).test.map((e) => e.id)).toEqual(s.test.map((e) => e.id));
    expect(stratifiedSplit(all, 8).test.map((e) => e.id)).not.toEqual(s.test.map((e) => e.id));
    expect(() => stratifiedSplit(all, 0, [0.5, 0.5, 0.5])).toThrow(/add up to 1/);
  });
});

describe('tokenizer', () => {
  it('trains BPE deterministically on the given texts, truncates head or head+tail, saves and reloads', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `free money offer number ${i % 17} click here now meeting agenda for tuesday ${i % 5}`);
    const tok = await SubwordTokenizer.train(texts, 120);
    expect(tok.vocabSize).toBeLessThanOrEqual(120);
    // same texts, same vocabulary (the WordPiece trainer of `tokenizers` is not deterministic)
    expect((await SubwordTokenizer.train(texts, 120)).fingerprint).toBe(tok.fingerprint);
    expect(tok.padId).toBe(0);
    expect(tok.firstRegularId).toBe(3);
    expect(() => tok.maskId).toThrow(/no \[MASK\]/);
    const masked = await SubwordTokenizer.train(texts, 120, { mask: true });
    expect(masked.maskId).toBe(3);
    expect(masked.firstRegularId).toBe(4);
    const [ids] = await tok.encode(['free money offer click here'], 64);
    expect(ids![0]).toBe(2); // [CLS]
    expect(ids!.length).toBeGreaterThan(3);
    const long = Array.from({ length: 50 }, (_, i) => (i < 25 ? 'money' : 'agenda')).join(' ');
    const [head] = await tok.encode([long], 9, 'head');
    const [both] = await tok.encode([long], 9, 'head+tail');
    expect(head).toHaveLength(9);
    expect(both).toHaveLength(9);
    expect(both!.slice(-2)).not.toEqual(head!.slice(-2));
    const [unk] = await tok.encode(['☃'], 8);
    expect(unk![0]).toBe(2);
    expect(unk![unk!.length - 1]).toBe(1); // [UNK], after the word-start marker piece
    const path = join(dir, 'tok.json');
    tok.save(path);
    const back = SubwordTokenizer.load(path);
    expect(back.fingerprint).toBe(tok.fingerprint);
    expect(await back.encode(['free money'], 8)).toEqual(await tok.encode(['free money'], 8));
    await expect(SubwordTokenizer.train(texts, 5)).rejects.toThrow(/vocabSize/);
  });
});

describe('DataLoader', () => {
  const ids = [[2, 5, 6], [2, 7], [2, 8, 9, 10, 11], [2], [2, 3, 3, 3]];
  it('pads each batch to its longest example and masks the padding', () => {
    const l = new DataLoader(ids, [0, 1, 0, 1, 0], { batchSize: 2 });
    const b = l.collate([0, 2]);
    expect(b.tokens.toArray()).toEqual([[2, 5, 6, 0, 0], [2, 8, 9, 10, 11]]);
    expect(b.keyPaddingMask.toArray()).toEqual([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]);
    expect(b.labels.toArray()).toEqual([0, 0]);
    expect(b.tokenCount).toBe(8);
  });
  it('shuffles per epoch from the seed, covers every example once, buckets by length', () => {
    const many = Array.from({ length: 103 }, (_, i) => new Array(1 + (i * 37) % 50).fill(1));
    const l = new DataLoader(many, many.map(() => 0), { batchSize: 8, shuffle: true, bucket: true, seed: 3 });
    const e0 = l.plan(0), e1 = l.plan(1);
    expect(e0.flat().sort((a, b) => a - b)).toEqual([...Array(103).keys()]);
    expect(e0).not.toEqual(e1);
    expect(l.plan(0)).toEqual(e0);
    const spread = (b: number[]) => Math.max(...b.map((i) => many[i]!.length)) - Math.min(...b.map((i) => many[i]!.length));
    expect(Math.max(...e0.map(spread))).toBeLessThan(15);
    expect(() => new DataLoader([[]], [0], { batchSize: 1 })).toThrow(/no tokens/);
  });
  it('windowIds cuts long token lists into windows that each open with [CLS]', () => {
    expect(windowIds([2, 5, 6, 7, 8, 9], 3)).toEqual([[2, 5, 6], [2, 7, 8], [2, 9]]);
    expect(windowIds([2, 5, 6], 3)).toEqual([[2, 5, 6]]);
  });
});
