// A BPE (byte-pair encoding) tokenizer trained with Hugging Face's `tokenizers` package on the
// training split only. BPE rather than WordPiece because the package's WordPiece trainer is not
// deterministic (huggingface/tokenizers#1794: `##` pieces get ids in hash-map order, which breaks
// ties between merges differently from run to run), and the same seed must give the same run.
// The package trains from files and with its default vocabulary size, so tensorforge writes the
// texts to a temporary file, trains, keeps the alphabet and the first merges up to `vocabSize`
// (merges are learned most frequent first, each builds on earlier ones), and adds [PAD]=0,
// [UNK]=1, [CLS]=2.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BPE, bertNormalizer, bertPreTokenizer, Tokenizer } from 'tokenizers';

export const SPECIAL = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]' } as const;
export type Truncation = 'head' | 'head+tail';

/** Characters of a text looked at, at most: enough for any max length, bounded for speed. */
const MAX_CHARS = 16384;

function configure(tok: Tokenizer): Tokenizer {
  tok.setNormalizer(bertNormalizer({ lowercase: true, cleanText: true, stripAccents: true, handleChineseChars: true }));
  tok.setPreTokenizer(bertPreTokenizer());
  return tok;
}

interface BpeModelJson {
  vocab: Record<string, number>;
  merges: unknown[];
  unk_token: string | null;
}

export class SubwordTokenizer {
  private constructor(private readonly tok: Tokenizer, private readonly source: string) {}

  static async train(texts: readonly string[], vocabSize: number): Promise<SubwordTokenizer> {
    if (!Number.isInteger(vocabSize) || vocabSize < 100) throw new RangeError(`tokenizer: vocabSize must be an integer >= 100, got ${vocabSize}`);
    const dir = mkdtempSync(join(tmpdir(), 'tensorforge-tok-'));
    try {
      const file = join(dir, 'train.txt');
      writeFileSync(file, texts.map((t) => t.slice(0, MAX_CHARS).replace(/\s+/g, ' ')).join('\n'));
      const trainer = configure(new Tokenizer(BPE.empty()));
      trainer.train([file]);
      const trained = join(dir, 'trained.json');
      trainer.save(trained, false);
      const json = JSON.parse(readFileSync(trained, 'utf8')) as { model: BpeModelJson; added_tokens: unknown[] };
      const learned = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]).map(([w]) => w);
      const alphabet = learned.length - json.model.merges.length;
      const specials: string[] = [SPECIAL.pad, SPECIAL.unk, SPECIAL.cls];
      const keep = Math.max(alphabet, Math.min(learned.length, vocabSize - specials.length));
      json.model.vocab = Object.fromEntries([...specials, ...learned.slice(0, keep)].map((w, i) => [w, i]));
      json.model.merges = json.model.merges.slice(0, keep - alphabet);
      json.model.unk_token = SPECIAL.unk;
      const tok = Tokenizer.fromString(JSON.stringify(json));
      tok.addSpecialTokens(specials);
      const path = join(dir, 'tokenizer.json');
      tok.save(path, false);
      return new SubwordTokenizer(tok, readFileSync(path, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  static load(path: string): SubwordTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
      return new SubwordTokenizer(Tokenizer.fromString(text), text);
    } catch (e) {
      throw new Error(`tokenizer: cannot load ${path}: ${(e as Error).message}`);
    }
  }

  /** Writes the tokenizer JSON atomically (temporary file, then rename). */
  save(path: string): void {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    writeFileSync(tmp, this.source);
    renameSync(tmp, path);
  }

  get vocabSize(): number {
    return this.tok.getVocabSize(true);
  }
  get padId(): number {
    return this.tok.tokenToId(SPECIAL.pad) ?? 0;
  }
  /** A hash of the vocabulary, stored with a model so a mismatched tokenizer is caught. */
  get fingerprint(): string {
    const entries = Object.entries(this.tok.getVocab(true)).sort((a, b) => a[1] - b[1]);
    return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
  }

  /** Token ids per text: [CLS] then the text's pieces, cut to maxLen (head, or head and tail). */
  async encode(texts: readonly string[], maxLen: number, truncation: Truncation = 'head'): Promise<number[][]> {
    if (!Number.isInteger(maxLen) || maxLen < 2) throw new RangeError(`tokenizer: maxLen must be an integer >= 2, got ${maxLen}`);
    const clipped = texts.map((t) => (t.length <= MAX_CHARS ? t : truncation === 'head' ? t.slice(0, MAX_CHARS) : t.slice(0, MAX_CHARS / 2) + ' ' + t.slice(-MAX_CHARS / 2)));
    const enc = await this.tok.encodeBatch(clipped, { addSpecialTokens: false });
    const cls = this.tok.tokenToId(SPECIAL.cls) ?? 2;
    return enc.map((e) => {
      const ids = e.getIds();
      const room = maxLen - 1;
      if (ids.length <= room) return [cls, ...ids];
      if (truncation === 'head') return [cls, ...ids.slice(0, room)];
      const head = Math.ceil(room / 2);
      return [cls, ...ids.slice(0, head), ...ids.slice(ids.length - (room - head))];
    });
  }
}
