// The worker behind Predictor: loads a run once, then answers {id, texts} messages in order with
// {id, predictions} or {id, error}. Its native work runs on this thread, off the caller's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { setThreads } from '../runtime.js';
import { TrainedClassifier } from './run.js';

interface Setup {
  run: string;
  batchSize: number;
  threads: number;
}

const port = parentPort!;
const setup = workerData as Setup;
try {
  setThreads(setup.threads);
  const clf = TrainedClassifier.load(setup.run);
  // one request at a time: the model's buffers are not shared between concurrent forwards
  let queue = Promise.resolve();
  port.on('message', (m: { id: number; texts: string[] }) => {
    queue = queue.then(async () => {
      try {
        port.postMessage({ id: m.id, predictions: await clf.predict(m.texts, setup.batchSize) });
      } catch (e) {
        port.postMessage({ id: m.id, error: (e as Error).message });
      }
    });
  });
  port.postMessage({ ready: true, labels: clf.labels });
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error).message });
}
