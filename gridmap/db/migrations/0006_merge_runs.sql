-- A merge of many units (the counties of a city or a province) is a run: each unit is
-- merged and written as its own generation as it finishes, so a failed unit can be
-- merged again (`gridmap merge … --resume RUN`) without redoing the others, and the whole
-- run can be rolled back to the generation in force when it started.
CREATE TABLE merge_run (
    id              bigserial PRIMARY KEY,
    scope           text NOT NULL,
    unit_level      text NOT NULL CHECK (unit_level IN ('county', 'city')),
    options         jsonb NOT NULL DEFAULT '{}'::jsonb,
    base_generation integer REFERENCES generation (id),
    actor           text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE TABLE merge_unit (
    run_id      bigint NOT NULL REFERENCES merge_run (id),
    unit_code   text NOT NULL REFERENCES division (code),
    status      text NOT NULL CHECK (status IN ('done', 'failed')),
    generation  integer REFERENCES generation (id),
    grids       integer NOT NULL DEFAULT 0 CHECK (grids >= 0),
    seconds     double precision NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    error       text,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, unit_code)
);
