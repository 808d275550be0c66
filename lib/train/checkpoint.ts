// Checkpoints: a folder with model.safetensors (weights by PyTorch names), optimizer.safetensors
// (moments; step counts in its metadata), trainer.json (step, epoch, position in the data,
// random state, loss scaler, best metric) and, when the Trainer keeps one, ema.safetensors (the
// moving average of the weights, by the same names). The folder is written under a temporary name and renamed
// into place, so a crash leaves either the old checkpoint or the new one, never a mix.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

export const CHECKPOINT_FILES = ['model.safetensors', 'optimizer.safetensors', 'trainer.json'] as const;

/** Writes `files` (name -> writer into a folder) as the folder `dir`, replacing it atomically. */
export function writeFolderAtomic(dir: string, write: (tmp: string) => void): void {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    write(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer<{ lr: number }>, trainerState: object, ema?: Map<string, Tensor>): void {
  const names = new Map([...model.namedParameters()].map(([n, p]) => [p, n] as [Tensor, string]));
  const opt = optimizer.exportState(names);
  writeFolderAtomic(dir, (tmp) => {
    saveSafetensors(join(tmp, 'model.safetensors'), model.stateDict(), { format: 'tensorforge' });
    saveSafetensors(join(tmp, 'optimizer.safetensors'), opt.tensors, { steps: JSON.stringify(opt.steps) });
    writeFileAtomic(join(tmp, 'trainer.json'), [new TextEncoder().encode(JSON.stringify(trainerState, null, 1))]);
    if (ema) saveSafetensors(join(tmp, 'ema.safetensors'), ema, { format: 'tensorforge' });
  });
}

export interface LoadedCheckpoint<S> {
  model: Map<string, Tensor>;
  optimizer: { tensors: Map<string, Tensor>; steps: Record<string, number> };
  trainer: S;
  /** the weight average, when the checkpoint has one */
  ema: Map<string, Tensor> | null;
}

export function loadCheckpoint<S>(dir: string): LoadedCheckpoint<S> {
  const missing = CHECKPOINT_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new Error(`checkpoint: ${dir} is incomplete (missing ${missing.join(', ')})`);
  const model = loadSafetensors(join(dir, 'model.safetensors')).tensors;
  const opt = loadSafetensors(join(dir, 'optimizer.safetensors'));
  let steps: Record<string, number>, trainer: S;
  try {
    steps = JSON.parse(opt.metadata.steps ?? '{}') as Record<string, number>;
    trainer = JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')) as S;
  } catch (e) {
    throw new Error(`checkpoint: ${dir} has a corrupt trainer state (${(e as Error).message})`);
  }
  const ema = existsSync(join(dir, 'ema.safetensors')) ? loadSafetensors(join(dir, 'ema.safetensors')).tensors : null;
  return { model, optimizer: { tensors: opt.tensors, steps }, trainer, ema };
}
