// `tensorforge train` and `tensorforge predict`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, type JobConfig } from '../train/job.js';
import { TrainedClassifier } from '../train/run.js';
import { parseTrainArgs, trainHelp } from './options.js';

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(trainHelp());
    return 0;
  }
  const r = args.indexOf('--resume');
  if (r >= 0) {
    const dir = args[r + 1];
    if (!dir || dir.startsWith('--')) throw new Error('train: --resume needs the run folder');
    const rest = args.filter((_, i) => i !== r && i !== r + 1);
    const allowed = new Set(['--max-steps', '--threads', '--progress']);
    for (const a of rest) {
      if (a.startsWith('--') && !allowed.has(a.split('=')[0]!)) throw new Error(`train: with --resume only --max-steps, --threads and --progress apply, got ${a}`);
    }
    const given = parseTrainArgs(rest);
    let saved: { job?: JobConfig };
    try {
      saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { job?: JobConfig };
    } catch (e) {
      throw new Error(`train: ${dir} is not a run folder (${(e as Error).message})`);
    }
    if (!saved.job) throw new Error(`train: ${dir}/config.json has no job settings`);
    const cfg: JobConfig = { ...saved.job, out: dir, maxSteps: given.maxSteps, threads: given.threads, progress: given.progress };
    const summary = await runJob(cfg, console.log, true);
    if (summary) console.log(`\nrun written to ${cfg.out}`);
    return 0;
  }
  const cfg = parseTrainArgs(args);
  if (!cfg.out) cfg.out = join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
  const summary = await runJob(cfg);
  if (summary) console.log(`\nrun written to ${cfg.out}`);
  return 0;
}

export async function predictCommand(args: string[]): Promise<number> {
  const i = args.indexOf('--run');
  if (i < 0 || !args[i + 1]) {
    console.error('usage: tensorforge predict --run DIR [TEXT... | -]   (- reads one text per line from stdin)');
    return 2;
  }
  const texts = args.filter((_, j) => j !== i && j !== i + 1);
  const input = texts.length === 1 && texts[0] === '-' ? readFileSync(0, 'utf8').split('\n').filter((l) => l.trim()) : texts;
  if (!input.length) {
    console.error('predict: give texts as arguments, or - to read them from stdin');
    return 2;
  }
  const clf = TrainedClassifier.load(args[i + 1]!);
  const preds = await clf.predict(input);
  preds.forEach((p, j) => console.log(`${p.label}\t${p.probability.toFixed(4)}\t${input[j]!.slice(0, 60).replace(/\s+/g, ' ')}`));
  return 0;
}
