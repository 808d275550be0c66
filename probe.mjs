import { runJob, DEFAULT_CONFIG } from './dist/lib/train/job.js';
const cfg = { ...DEFAULT_CONFIG, out: '/tmp/run1', epochs: 1, progress: true, ...JSON.parse(process.argv[2] ?? '{}') };
const s = await runJob(cfg);
