-- The synthetic population a database holds (issue 4): which one `npm start` (the demo's 300
-- residents) or `npm run load` put into the FHIR store. Synthetic NHS numbers come from the
-- never-issued test range, which holds only 900,000 usable numbers, and resident n of one
-- population has the same number as resident n of any other with the same seed; so two different
-- populations in one store would share NHS numbers between different people, and the master
-- patient index would join them. A database therefore holds at most one synthetic population,
-- and never one mixed with other Patients; loading the same one again (to resume) is allowed.
CREATE TABLE synthetic_population (
  icb           text        NOT NULL,
  seed          bigint      NOT NULL,
  people        integer     NOT NULL CHECK (people > 0),
  as_of         date        NOT NULL,
  -- 'npm start' (the demo's residents) or 'npm run load'
  loaded_by     text        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  -- null while loading, or after a load was interrupted (running it again finishes it)
  completed_at  timestamptz,
  PRIMARY KEY (icb, seed, people, as_of)
);
