-- Rebalancing plans: a draft grid set for some communities, drafted against the generation
-- then in force, with its metrics; activating one makes it a generation.
CREATE TABLE plan (
    id                   bigserial PRIMARY KEY,
    division_code        text NOT NULL REFERENCES division (code),
    base_generation      integer NOT NULL REFERENCES generation (id),
    band_low             integer NOT NULL CHECK (band_low > 0),
    band_high            integer NOT NULL CHECK (band_high >= band_low),
    params               jsonb NOT NULL DEFAULT '{}',
    metrics              jsonb NOT NULL,
    infeasible           jsonb NOT NULL DEFAULT '[]',
    retired              text[] NOT NULL DEFAULT '{}',
    status               text NOT NULL DEFAULT 'draft'
                         CONSTRAINT plan_status_known CHECK (status IN ('draft', 'active', 'rolled_back')),
    activated_generation integer REFERENCES generation (id),
    -- what activation did to the roster: grid chiefs ended, grids left without a chief
    review               jsonb NOT NULL DEFAULT '[]',
    ended_assignments    bigint[] NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    activated_at         timestamptz
);

CREATE TABLE plan_grid (
    plan_id        bigint NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    code           text NOT NULL CHECK (code ~ '^[0-9]{15}$'),
    community_code text NOT NULL REFERENCES division (code),
    households     integer NOT NULL CHECK (households >= 0),
    status         text NOT NULL CONSTRAINT plan_grid_status_known CHECK (status IN ('kept', 'new')),
    boundary       geometry(MultiPolygon, 4490) NOT NULL CHECK (ST_IsValid(boundary)),
    PRIMARY KEY (plan_id, code),
    CONSTRAINT plan_grid_prefix_is_community CHECK (left(code, 12) = community_code)
);
CREATE INDEX plan_grid_boundary_gix ON plan_grid USING gist (boundary);

CREATE TABLE plan_assignment (
    plan_id     bigint NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    building_id bigint NOT NULL REFERENCES building (id) ON DELETE CASCADE,
    from_code   text NOT NULL,
    grid_code   text NOT NULL,
    PRIMARY KEY (plan_id, building_id)
);

-- where each grid's households went when a generation replaced another
CREATE TABLE grid_succession (
    generation  integer NOT NULL REFERENCES generation (id),
    from_code   text NOT NULL REFERENCES grid_code (code),
    to_code     text NOT NULL REFERENCES grid_code (code),
    households  integer NOT NULL CHECK (households >= 0),
    buildings   integer NOT NULL CHECK (buildings >= 0),
    PRIMARY KEY (generation, from_code, to_code)
);
