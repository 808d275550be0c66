// A finished run folder as a classifier: config, tokenizer and weights, checked against each other.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader } from '../data/loader.js';
import { normalizeText } from '../data/normalize.js';
import { SubwordTokenizer } from '../data/tokenizer.js';
import { loadSafetensors } from '../io/safetensors.js';
import { noGrad } from '../autograd/mode.js';
import { EncoderClassifier, type EncoderClassifierConfig } from '../nn/classifier.js';
import { softmax } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { JobConfig } from './job.js';

export interface Prediction {
  label: string;
  probability: number;
  probabilities: number[];
}

interface RunConfig {
  job: JobConfig;
  model: EncoderClassifierConfig;
  labels: string[];
  tokenizer: { fingerprint: string; vocabSize: number };
}

export class TrainedClassifier {
  private constructor(readonly config: RunConfig, readonly tokenizer: SubwordTokenizer, readonly model: EncoderClassifier) {}

  static load(dir: string): TrainedClassifier {
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      if (!existsSync(join(dir, f))) throw new Error(`predict: ${dir} is not a finished run (no ${f})`);
    }
    let config: RunConfig;
    try {
      config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig;
    } catch (e) {
      throw new Error(`predict: ${dir}/config.json is corrupt: ${(e as Error).message}`);
    }
    const tokenizer = SubwordTokenizer.load(join(dir, 'tokenizer.json'));
    if (tokenizer.fingerprint !== config.tokenizer?.fingerprint) {
      throw new Error(`predict: the tokenizer in ${dir} does not match the model (vocabulary ${tokenizer.fingerprint}, model trained with ${config.tokenizer?.fingerprint})`);
    }
    const weights = loadSafetensors(join(dir, 'model.safetensors'));
    if (weights.metadata.fingerprint && weights.metadata.fingerprint !== tokenizer.fingerprint) {
      throw new Error(`predict: the weights in ${dir} were trained with another tokenizer (${weights.metadata.fingerprint})`);
    }
    const model = new EncoderClassifier(config.model);
    model.loadStateDict(weights.tensors);
    for (const t of weights.tensors.values()) t.dispose();
    model.eval();
    return new TrainedClassifier(config, tokenizer, model);
  }

  get labels(): string[] {
    return this.config.labels;
  }

  async predict(texts: readonly string[], batchSize = 32): Promise<Prediction[]> {
    const j = this.config.job;
    const ids = await this.tokenizer.encode(texts.map((t) => normalizeText(t, { stopwords: j.stopwords, stem: j.stem }) || ' '), j.maxLen, j.truncation);
    const loader = new DataLoader(ids, ids.map(() => 0), { batchSize, padId: this.tokenizer.padId });
    const out: Prediction[] = new Array(texts.length);
    noGrad(() => {
      for (const indices of loader.plan(0)) {
        tidy(() => {
          const b = loader.collate(indices);
          const p = softmax(this.model.forward(b.tokens, b.keyPaddingMask), -1).data() as Float32Array;
          const k = this.labels.length;
          indices.forEach((ex, r) => {
            const probabilities = [...p.subarray(r * k, (r + 1) * k)];
            const best = probabilities.indexOf(Math.max(...probabilities));
            out[ex] = { label: this.labels[best]!, probability: probabilities[best]!, probabilities };
          });
        });
      }
    });
    return out;
  }
}
