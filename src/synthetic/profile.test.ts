import { describe, expect, it } from 'vitest';
import { loadArea } from './geography.js';
import type { Resident } from './model.js';
import { households } from './population.js';
import { formatProfile, profileResidents } from './profile.js';

const AS_OF = '2026-10-31';

describe('profile', () => {
  const area = loadArea('QGH');
  const residents = [...households(area, { people: 5_000, seed: 11, asOf: AS_OF })].flat();

  it('prints each table with targets, tolerances and results', () => {
    const profile = profileResidents(residents, area, AS_OF);
    const text = formatProfile(profile);
    expect(text).toContain('Population profile of QGH at 2026-10-31: 5000 residents');
    for (const title of ['Age pyramid', 'Prevalence by age band', 'Prevalence by IMD 2019 quintile', 'Multimorbidity', 'Frailty', 'Smoking', 'Ethnicity', 'Households', 'Deaths']) expect(text).toContain(title);
    expect(text).toMatch(/85\+ +\d+\.\d+% +\d+\.\d+%/);
    expect(text).toContain('PASS');
    expect(profile.failed).toBe(0);
  });

  it('fails a population that does not look like its area', () => {
    // Everyone thirty, a smoker and diabetic: the pyramid, smoking and diabetes must fail.
    const wrong: Resident[] = residents.map(({ deathDate: _died, ...r }) => ({ ...r, birthDate: '1996-01-01', smoking: 'current', conditions: [{ key: 'diabetes', onset: '2020-01-01' }] }));
    const profile = profileResidents(wrong, area, AS_OF);
    const failed = profile.sections.flatMap((s) => s.rows.filter((r) => r.judged && !r.pass).map((r) => `${s.title.split(' ')[0]}: ${r.label}`));
    expect(failed).toContain('Age: 0–4 male');
    expect(failed).toContain('Smoking: current smokers');
    expect(failed).toContain('Prevalence: diabetes 25–34');
    expect(formatProfile(profile)).toContain('FAIL');
  });
});
