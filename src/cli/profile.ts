/**
 * `npm run profile -- <out>`: the profile of a population written by `npm run generate` — age
 * pyramid, prevalence by age band and IMD quintile, multimorbidity, frailty, smoking, ethnicity,
 * households, deaths, activity rates and the waiting-time distribution — each against its
 * documented target (src/synthetic/prevalence.ts, src/synthetic/activity.ts) with PASS/FAIL.
 *
 * Exit status: 0 when every judged check passes, 1 when any fails, 2 for a usage error.
 */
import { formatOutputProfile, profileOutput } from '../synthetic/profile.js';

const USAGE = 'usage: npm run profile -- <output directory of npm run generate>';

async function run(args: string[]): Promise<number> {
  const [out, ...rest] = args;
  if (!out || rest.length > 0 || out.startsWith('-')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const profile = await profileOutput(out);
    process.stdout.write(formatOutputProfile(profile));
    return profile.failed > 0 ? 1 : 0;
  } catch (error) {
    // A missing or foreign directory is the user's mistake: one line, no stack.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

process.exitCode = await run(process.argv.slice(2));
