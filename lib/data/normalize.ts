// Text normalisation of the founding document: placeholders for URLs, e-mail addresses and numbers,
// lower case, optional stop-word removal and Porter stemming.
import { stemmer } from 'stemmer';
import { eng } from 'stopword';

export interface NormalizeOptions {
  /** drop English stop words (the `stopword` package's list) */
  stopwords?: boolean;
  /** Porter stemming (the `stemmer` package) */
  stem?: boolean;
}

// a URL ends before trailing punctuation
const URL = /\b(?:https?:\/\/|ftp:\/\/|www\.)[^\s<>"')\]]*[^\s<>"')\].,;:!?]/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const NUMBER = /\b\d+(?:[.,]\d+)*\b/g;
const STOP = new Set(eng);

/** Placeholder words: single lower-case tokens the tokenizer keeps whole. */
export const PLACEHOLDERS = { url: 'urltoken', email: 'emailtoken', number: 'numtoken' } as const;

export function normalizeText(text: string, opts: NormalizeOptions = {}): string {
  let t = text.replace(URL, ` ${PLACEHOLDERS.url} `).replace(EMAIL, ` ${PLACEHOLDERS.email} `).replace(NUMBER, ` ${PLACEHOLDERS.number} `);
  t = t.toLowerCase().replace(/\s+/g, ' ').trim();
  if (!opts.stopwords && !opts.stem) return t;
  const words = t.split(/(\W+)/u);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (i % 2 === 1) {
      out.push(w);
      continue;
    }
    if (opts.stopwords && STOP.has(w)) continue;
    out.push(opts.stem && w.length > 2 && !Object.values(PLACEHOLDERS).includes(w as never) ? stemmer(w) : w);
  }
  return out.join('').replace(/\s+/g, ' ').trim();
}
