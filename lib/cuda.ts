// tf.cuda: the CUDA device as PyTorch's torch.cuda shows it: availability, the caching allocator's
// statistics, releasing its cache, waiting for queued work.
import { loaded, native, type CudaMemoryStats } from './native.js';

/** True when the CUDA variant is loaded and a device answered. */
export function isAvailable(): boolean {
  return loaded.variant === 'cuda' && native.info().cudaDevices > 0;
}
/** Devices visible to this process (0 without the CUDA variant). */
export function deviceCount(): number {
  return loaded.variant === 'cuda' ? native.info().cudaDevices : 0;
}
/** Bytes in live device tensors, reserved from the driver (cache included), and the peak of the first. */
export function memoryStats(): CudaMemoryStats {
  return native.cudaMemory('stats');
}
export function resetPeakMemoryStats(): void {
  native.cudaMemory('resetPeak');
}
/** Gives cached, unused device blocks back to the driver. */
export function emptyCache(): void {
  native.cudaMemory('emptyCache');
}
/**
 * Lets float32 matmuls and linear layers on the GPU run on tensor cores as TF32 (inputs rounded to
 * 10 mantissa bits, float32 accumulation): torch.backends.cuda.matmul.allow_tf32. Off by default.
 */
export function setAllowTF32(allow: boolean): void {
  native.cudaTf32(allow);
}
export function allowTF32(): boolean {
  return native.cudaTf32();
}
/** Waits until every queued kernel and copy has finished. */
export function synchronize(): void {
  if (isAvailable()) native.cudaMemory('synchronize');
}
