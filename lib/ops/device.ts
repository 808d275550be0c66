// Moving tensors between the host and CUDA devices (x.to('cuda'), x.cpu()), differentiable: the
// gradient goes back to the source's device.
import { copyToDevice } from '../tensor/create.js';
import { deviceIndex, deviceName, type DeviceLike } from '../tensor/device.js';
import { isFloatDType } from '../tensor/dtype.js';
import { checkTensor, type Tensor } from '../tensor/tensor.js';
import { record, runInto } from './dispatch.js';
import { contiguous } from './shape.js';

/** x on `device` (x itself when it is there already). */
export function toDevice(x: Tensor, device: DeviceLike): Tensor {
  checkTensor(x, 'to');
  const dev = deviceIndex(device, 'to');
  if (dev === x.deviceIndex) return x;
  const src = contiguous(x);
  const out = copyToDevice(src, dev);
  if (src !== x) src.dispose();
  if (!isFloatDType(x.dtype)) return out;
  const from = deviceName(x.deviceIndex);
  return record('to', [x], out, (g) => [toDevice(g, from)]);
}

/** Copies src's values into dst (cast to dst's dtype), from whichever device src is on. */
export function copyInto(dst: Tensor, src: Tensor): void {
  const s = toDevice(src, dst.device);
  runInto('copy', [s], [dst]);
  if (s !== src) s.dispose();
}
