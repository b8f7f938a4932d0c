/**
 * The thresholds of unusual-access detection, from documented environment variables (see
 * docs/configuration.md). A bad value stops start-up with a message naming the variable.
 */
import { ConfigError } from '../../core/config.js';

export interface UnusualAccessConfig {
  /** Days of the trail the privacy officer's page looks at, ending today. */
  windowDays: number;
  /** A user who opens more than this many residents' records by break-glass in one day is listed. */
  breakGlassPerDay: number;
  /** A user whose residents opened in a day are more than this many times their organisation's usual day is listed... */
  normFactor: number;
  /** ...when they opened at least this many. */
  normMinimum: number;
  /** Night, in UK time: from this hour (0-23)... */
  nightStartHour: number;
  /** ...to this hour. */
  nightEndHour: number;
  /** A user who looks at records this many times in one night is listed. */
  nightMinimum: number;
}

export const UNUSUAL_ACCESS_DEFAULTS: UnusualAccessConfig = {
  windowDays: 14,
  breakGlassPerDay: 3,
  normFactor: 3,
  normMinimum: 20,
  nightStartHour: 22,
  nightEndHour: 6,
  nightMinimum: 5,
};

const VARIABLES: Record<keyof UnusualAccessConfig, { name: string; min: number; max: number; whole: boolean }> = {
  windowDays: { name: 'OPENICS_AUDIT_WINDOW_DAYS', min: 1, max: 366, whole: true },
  breakGlassPerDay: { name: 'OPENICS_AUDIT_BREAK_GLASS_PER_DAY', min: 0, max: 100_000, whole: true },
  normFactor: { name: 'OPENICS_AUDIT_NORM_FACTOR', min: 1, max: 1000, whole: false },
  normMinimum: { name: 'OPENICS_AUDIT_NORM_MINIMUM', min: 1, max: 100_000, whole: true },
  nightStartHour: { name: 'OPENICS_AUDIT_NIGHT_START_HOUR', min: 0, max: 23, whole: true },
  nightEndHour: { name: 'OPENICS_AUDIT_NIGHT_END_HOUR', min: 0, max: 23, whole: true },
  nightMinimum: { name: 'OPENICS_AUDIT_NIGHT_MINIMUM', min: 1, max: 100_000, whole: true },
};

export function loadUnusualAccessConfig(env: NodeJS.ProcessEnv = process.env): UnusualAccessConfig {
  const config = { ...UNUSUAL_ACCESS_DEFAULTS };
  for (const [key, spec] of Object.entries(VARIABLES) as [keyof UnusualAccessConfig, (typeof VARIABLES)[keyof UnusualAccessConfig]][]) {
    const raw = env[spec.name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || (spec.whole && !Number.isInteger(value)) || value < spec.min || value > spec.max) {
      throw new ConfigError(spec.name, `must be a ${spec.whole ? 'whole number' : 'number'} from ${spec.min} to ${spec.max}, got "${raw}"`);
    }
    config[key] = value;
  }
  return config;
}
