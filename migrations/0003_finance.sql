-- The finance module: the single pot (the ICB's allocation by stream), needs-based allocation to
-- places (place definitions, convergence policies, scenarios, current place budgets), investment
-- standards (MHIS and the primary medical and community services guarantee), and the system
-- financial position (organisations' plans and monthly actuals, the system target, spend against
-- delegated budgets, and the risk-share agreement).
--
-- Money is numeric(16,2) pounds. Rates and shares are fractions (0.035 is 3.5%). A financial
-- year is the calendar year it starts in: 2025 is 2025/26. Months of the financial year run
-- 1 (April) to 12 (March).

-- The ICB's allocation for each year, by stream, with its source and conditions.
CREATE TABLE finance_allocation (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year          integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  stream        text NOT NULL CHECK (stream IN ('core_services', 'primary_medical_care', 'specialised_services', 'other_primary_care', 'running_costs', 'transformation', 'capital')),
  name          text NOT NULL,
  amount        numeric(16, 2) NOT NULL CHECK (amount >= 0),
  source        text NOT NULL,
  conditions    text,
  recurrent     boolean NOT NULL DEFAULT true,
  UNIQUE (ics_code, year, stream, name)
);
CREATE INDEX finance_allocation_ics ON finance_allocation (ics_code, year);

-- Place definitions: named sets of practice → place assignments. The 'structure' place set holds
-- no assignments: it follows the ICS's own places in the structure module.
CREATE TABLE finance_place_set (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name          text NOT NULL,
  description   text,
  basis         text NOT NULL CHECK (basis IN ('structure', 'districts', 'upper_tier', 'pcns', 'custom')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ics_code, name)
);

CREATE TABLE finance_place_set_practice (
  place_set_id  text NOT NULL REFERENCES finance_place_set(id) ON DELETE CASCADE,
  practice_code text NOT NULL,
  place_name    text NOT NULL CHECK (length(trim(place_name)) > 0),
  PRIMARY KEY (place_set_id, practice_code)
);

-- Pace of change: how fast place budgets move from where they are to their targets.
CREATE TABLE finance_policy (
  id              text PRIMARY KEY,
  ics_code        text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name            text NOT NULL,
  years           integer NOT NULL CHECK (years BETWEEN 1 AND 10),
  icb_growth      numeric(8, 6) NOT NULL,
  min_growth      numeric(8, 6) NOT NULL,
  max_growth      numeric(8, 6) NOT NULL,
  gap_closure     numeric(8, 6) NOT NULL CHECK (gap_closure BETWEEN 0 AND 1),
  protection_band numeric(8, 6) NOT NULL DEFAULT 0 CHECK (protection_band BETWEEN 0 AND 1),
  CHECK (min_growth <= icb_growth AND icb_growth <= max_growth),
  UNIQUE (ics_code, name)
);

-- A scenario: place definitions, need weights and a policy, for a base year.
CREATE TABLE finance_scenario (
  id                      text PRIMARY KEY,
  ics_code                text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name                    text NOT NULL,
  description             text,
  year                    integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  place_set_id            text NOT NULL REFERENCES finance_place_set(id),
  policy_id               text NOT NULL REFERENCES finance_policy(id),
  -- Null: NHS England's core weighted population. Otherwise the weight of each core component.
  core_weights            jsonb,
  -- Null: NHS England's primary medical care weighted population (15% health inequalities).
  pmc_inequalities_share  numeric(6, 5) CHECK (pmc_inequalities_share IS NULL OR pmc_inequalities_share BETWEEN 0 AND 1),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ics_code, name)
);

-- The budgets the ICS's places hold today, by stream distributed by need.
CREATE TABLE finance_place_budget (
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year          integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  stream        text NOT NULL CHECK (stream IN ('core_services', 'primary_medical_care')),
  place_id      text NOT NULL REFERENCES place(id) ON DELETE CASCADE,
  amount        numeric(16, 2) NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (ics_code, year, stream, place_id)
);

-- Investment standards: the growth each requires in a year, and why.
CREATE TABLE finance_standard_target (
  ics_code        text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year            integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  standard        text NOT NULL CHECK (standard IN ('mhis', 'pmcs')),
  required_growth numeric(8, 6) NOT NULL,
  basis           text NOT NULL,
  PRIMARY KEY (ics_code, year, standard)
);

-- Spend lines of a standard: plan and outturn by category, each in or out of the calculation.
CREATE TABLE finance_standard_line (
  id                text PRIMARY KEY,
  ics_code          text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year              integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  standard          text NOT NULL CHECK (standard IN ('mhis', 'pmcs')),
  category          text NOT NULL,
  description       text NOT NULL,
  plan              numeric(16, 2) NOT NULL,
  outturn           numeric(16, 2),
  excluded          boolean NOT NULL DEFAULT false,
  exclusion_reason  text,
  CHECK (NOT excluded OR (exclusion_reason IS NOT NULL AND length(trim(exclusion_reason)) > 0)),
  UNIQUE (ics_code, year, standard, description)
);
CREATE INDEX finance_standard_line_ics ON finance_standard_line (ics_code, year, standard);

-- Each organisation's income and expenditure: a plan and actuals by month, and a full-year
-- forecast outturn (month 0) when it reports one.
CREATE TABLE finance_figures (
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year          integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  org_code      text NOT NULL REFERENCES organisation(code),
  kind          text NOT NULL CHECK (kind IN ('plan', 'actual', 'forecast')),
  month         integer NOT NULL CHECK (month BETWEEN 0 AND 12),
  income        numeric(16, 2) NOT NULL,
  pay           numeric(16, 2) NOT NULL,
  non_pay       numeric(16, 2) NOT NULL,
  CHECK ((kind = 'forecast') = (month = 0)),
  PRIMARY KEY (ics_code, year, org_code, kind, month)
);

-- The surplus (or deficit, negative) the system's organisations agree to deliver together.
CREATE TABLE finance_system_target (
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year          integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  surplus       numeric(16, 2) NOT NULL,
  description   text,
  PRIMARY KEY (ics_code, year)
);

-- Spend against budgets delegated through the functions and decisions map, by month.
CREATE TABLE finance_delegated_spend (
  ics_code      text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year          integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  delegation_id text NOT NULL REFERENCES delegation(id) ON DELETE CASCADE,
  month         integer NOT NULL CHECK (month BETWEEN 1 AND 12),
  amount        numeric(16, 2) NOT NULL,
  PRIMARY KEY (ics_code, year, delegation_id, month)
);

-- The risk-share agreement for a year, as rules applied to the position.
CREATE TABLE finance_risk_share (
  ics_code            text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  year                integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  name                text NOT NULL,
  description         text,
  residual_org_code   text NOT NULL REFERENCES organisation(code),
  PRIMARY KEY (ics_code, year)
);

CREATE TABLE finance_risk_share_rule (
  id            text PRIMARY KEY,
  ics_code      text NOT NULL,
  year          integer NOT NULL,
  position      integer NOT NULL CHECK (position > 0),
  kind          text NOT NULL CHECK (kind IN ('retain_own_variance', 'share_overspend', 'share_underspend', 'cap')),
  org_code      text REFERENCES organisation(code),
  -- A share (0 to 1) for share rules; pounds for retain_own_variance and cap.
  value         numeric(16, 6) NOT NULL CHECK (value >= 0),
  FOREIGN KEY (ics_code, year) REFERENCES finance_risk_share (ics_code, year) ON DELETE CASCADE,
  CHECK ((kind = 'retain_own_variance') = (org_code IS NULL)),
  CHECK (kind NOT IN ('share_overspend', 'share_underspend') OR value <= 1),
  UNIQUE (ics_code, year, position)
);
