// Where a tensor's memory lives: the host ('cpu') or a CUDA device ('cuda:N'). Native storages
// carry the index (-1 for the host); ops run on the backend of the device their tensors share.
export type Device = 'cpu' | `cuda:${number}`;
/** What APIs accept: 'cuda' means cuda:0, as in PyTorch. */
export type DeviceLike = Device | 'cuda';

/** The storage index of a device string: -1 for 'cpu', N for 'cuda' (0) and 'cuda:N'. */
export function deviceIndex(d: unknown, where: string): number {
  if (d === 'cpu') return -1;
  if (d === 'cuda') return 0;
  const m = typeof d === 'string' ? /^cuda:(\d{1,4})$/.exec(d) : null;
  if (!m) throw new TypeError(`${where}: unknown device ${JSON.stringify(d)} (expected 'cpu', 'cuda' or 'cuda:N')`);
  return Number(m[1]);
}

export function deviceName(index: number): Device {
  return index < 0 ? 'cpu' : `cuda:${index}`;
}

export function isDeviceLike(d: unknown): d is DeviceLike {
  return d === 'cpu' || d === 'cuda' || (typeof d === 'string' && /^cuda:\d{1,4}$/.test(d));
}
