// One counter-based generator for everything random (init, dropout, shuffling): Philox 4x32-10
// keyed by (seed, offset). A draw of n values takes stream elements [offset, offset + n) and moves
// the offset on (rounded up to whole 4-word blocks), so the same seed gives the same values on any
// device and thread count. State is two numbers: save and restore it for bit-identical resumes.
export interface GeneratorState {
  seed: number;
  offset: number;
}

export class Generator {
  private _seed: number;
  private _offset = 0;
  constructor(seed = 0) {
    this._seed = Generator.checkSeed(seed);
  }
  static checkSeed(seed: number): number {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    return seed;
  }
  manualSeed(seed: number): this {
    this._seed = Generator.checkSeed(seed);
    this._offset = 0;
    return this;
  }
  get seed(): number {
    return this._seed;
  }
  /** Reserves `count` stream elements; returns [seed, offset] for the kernel. */
  take(count: number): [number, number] {
    const at = this._offset;
    this._offset += Math.ceil(count / 4) * 4;
    return [this._seed, at];
  }
  getState(): GeneratorState {
    return { seed: this._seed, offset: this._offset };
  }
  setState(s: GeneratorState): void {
    this._seed = Generator.checkSeed(s.seed);
    if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new RangeError(`setState: bad offset ${s.offset}`);
    this._offset = s.offset;
  }
}

export const defaultGenerator = new Generator(0);

/** Seeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
