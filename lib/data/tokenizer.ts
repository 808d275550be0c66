// A WordPiece tokenizer whose vocabulary is learned on the training split only with Hugging Face's
// `tokenizers`. The package's WordPiece trainer is not deterministic (huggingface/tokenizers#1794:
// its '##' pieces get ids in hash-map order, which breaks ties between merges differently from run
// to run), so the vocabulary is learned with its BPE trainer, which is, on words marked with a
// leading '▁' (SentencePiece style), and then converted the way WordPiece::from_bpe does it: a
// piece that starts a word keeps its letters, any other piece gets the '##' prefix. Encoding is
// WordPiece's greedy longest match, words over 100 characters (encoded junk) become one [UNK].
// The package trains from files and with its default vocabulary size, so tensorforge writes the
// texts to a temporary file, trains, and keeps the alphabet and the first merges (learned most
// frequent first) up to `vocabSize`, after [PAD]=0, [UNK]=1, [CLS]=2 and, for masked-LM pretraining,
// [MASK]=3 (only then: it takes a piece's place, which alone moves a trained model's results).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  BPE, bertNormalizer, bertPreTokenizer, metaspacePreTokenizer, punctuationPreTokenizer, sequencePreTokenizer, Tokenizer, WordPiece,
} from 'tokenizers';

export const SPECIAL = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', mask: '[MASK]' } as const;
export type Truncation = 'head' | 'head+tail';

/** Characters of a text looked at, at most: enough for any max length, bounded for speed. */
const MAX_CHARS = 16384;
const WORD_START = '\u2581';

function normalizer() {
  return bertNormalizer({ lowercase: true, cleanText: true, stripAccents: true, handleChineseChars: true });
}

/** The first vocabSize - 3 pieces learned by a BPE trainer, as WordPiece tokens. */
function learnPieces(file: string, count: number): string[] {
  const bpe = new Tokenizer(BPE.empty());
  bpe.setNormalizer(normalizer());
  bpe.setPreTokenizer(sequencePreTokenizer([punctuationPreTokenizer('isolated'), metaspacePreTokenizer(WORD_START, 'always', true)]));
  bpe.train([file]);
  const learned = Object.entries(bpe.getVocab()).sort((a, b) => a[1] - b[1]).map(([w]) => w);
  const pieces = new Set<string>();
  // every character, as a word start and inside a word, so any word can be spelled
  for (const w of learned) {
    const c = w.replace(WORD_START, '');
    if ([...c].length === 1) pieces.add(c).add(`##${c}`);
  }
  for (const w of learned) {
    if (pieces.size >= count) break;
    const piece = w.startsWith(WORD_START) ? w.slice(1) : `##${w}`;
    if (piece && piece !== '##') pieces.add(piece);
  }
  return [...pieces].slice(0, count);
}

export class SubwordTokenizer {
  private constructor(private readonly tok: Tokenizer, private readonly source: string) {}

  /** `mask`: reserve [MASK] (for masked-LM pretraining). */
  static async train(texts: readonly string[], vocabSize: number, opts: { mask?: boolean } = {}): Promise<SubwordTokenizer> {
    if (!Number.isInteger(vocabSize) || vocabSize < 100) throw new RangeError(`tokenizer: vocabSize must be an integer >= 100, got ${vocabSize}`);
    const dir = mkdtempSync(join(tmpdir(), 'tensorforge-tok-'));
    try {
      const file = join(dir, 'train.txt');
      writeFileSync(file, texts.map((t) => t.slice(0, MAX_CHARS).replace(/\s+/g, ' ')).join('\n'));
      const specials: string[] = [SPECIAL.pad, SPECIAL.unk, SPECIAL.cls, ...(opts.mask ? [SPECIAL.mask] : [])];
      const words = [...specials, ...learnPieces(file, vocabSize - specials.length)];
      const vocab = Object.fromEntries(words.map((w, i) => [w, i]));
      const tok = new Tokenizer(WordPiece.init(vocab, { unkToken: SPECIAL.unk, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
      tok.setNormalizer(normalizer());
      tok.setPreTokenizer(bertPreTokenizer());
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
  /** The id of [MASK], in vocabularies trained with { mask: true }. */
  get maskId(): number {
    const id = this.tok.tokenToId(SPECIAL.mask);
    if (id === null) throw new Error('tokenizer: this vocabulary has no [MASK] token (train it with { mask: true })');
    return id;
  }
  /** Ids below this are the special tokens. */
  get firstRegularId(): number {
    return Object.values(SPECIAL).filter((t) => this.tok.tokenToId(t) !== null).length;
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
