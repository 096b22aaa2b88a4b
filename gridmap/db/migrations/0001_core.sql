-- gridmap core schema: divisions, generations of grids, legacy layers and crosswalk,
-- buildings, units, people and chief assignments. Geometries in CGCS2000 (EPSG:4490).

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- --------------------------------------------------------------- administrative frame
CREATE TABLE division (
    code          text PRIMARY KEY
                  CONSTRAINT division_code_format CHECK (code ~ '^[0-9]{12}$'),
    name          text NOT NULL CONSTRAINT division_name_nonempty CHECK (name <> ''),
    official_name text,
    level         text NOT NULL
                  CONSTRAINT division_level_known
                  CHECK (level IN ('province', 'city', 'county', 'township', 'village')),
    parent_code   text REFERENCES division (code) DEFERRABLE INITIALLY DEFERRED,
    kind          text,
    boundary      geometry(MultiPolygon, 4490)
                  CONSTRAINT division_boundary_valid
                  CHECK (boundary IS NULL OR (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary))),
    CONSTRAINT division_parent_present CHECK ((level = 'province') = (parent_code IS NULL)),
    -- the level follows from the trailing zero groups of the code
    CONSTRAINT division_level_matches_code CHECK (
        level = CASE
            WHEN substr(code, 3) = '0000000000' THEN 'province'
            WHEN substr(code, 5) = '00000000' THEN 'city'
            WHEN substr(code, 7) = '000000' THEN 'county'
            WHEN substr(code, 10) = '000' THEN 'township'
            ELSE 'village' END),
    -- a child's code starts with its parent's significant digits
    CONSTRAINT division_nests_in_parent CHECK (
        parent_code IS NULL OR left(code, CASE level
            WHEN 'city' THEN 2 WHEN 'county' THEN 4 WHEN 'township' THEN 6 ELSE 9 END)
          = left(parent_code, CASE level
            WHEN 'city' THEN 2 WHEN 'county' THEN 4 WHEN 'township' THEN 6 ELSE 9 END))
);
CREATE INDEX division_parent_idx ON division (parent_code);
CREATE INDEX division_boundary_gix ON division USING gist (boundary);
CREATE INDEX division_name_trgm ON division USING gin (name gin_trgm_ops);

CREATE TABLE division_alias (
    code  text NOT NULL REFERENCES division (code) ON DELETE CASCADE,
    alias text NOT NULL CHECK (alias <> ''),
    PRIMARY KEY (code, alias)
);

-- --------------------------------------------------------------- grid generations
-- In MapIt's style: every grid row carries the range of generations it belongs to,
-- generation_low .. generation_high (NULL = still current), so every past grid set
-- stays queryable and nothing is destroyed.
CREATE TABLE generation (
    id           integer PRIMARY KEY CHECK (id > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    source       text NOT NULL,
    description  text NOT NULL DEFAULT ''
);

-- Every grid code ever issued. A code is never deleted, so a serial is never reused.
CREATE TABLE grid_code (
    code           text PRIMARY KEY
                   CONSTRAINT grid_code_format CHECK (code ~ '^[0-9]{12}(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})$'),
    community_code text NOT NULL REFERENCES division (code),
    serial         integer GENERATED ALWAYS AS (substr(code, 13, 3)::integer) STORED,
    issued_in      integer NOT NULL REFERENCES generation (id),
    retired_in     integer REFERENCES generation (id),
    CONSTRAINT grid_code_prefix_is_community CHECK (left(code, 12) = community_code)
);
CREATE INDEX grid_code_community_idx ON grid_code (community_code);

CREATE TABLE grid (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL REFERENCES grid_code (code),
    community_code  text NOT NULL REFERENCES division (code),
    kind            text NOT NULL CONSTRAINT grid_kind_known CHECK (kind IN ('urban', 'rural', 'special')),
    name            text NOT NULL DEFAULT '',
    households      integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    boundary        geometry(MultiPolygon, 4490) NOT NULL
                    CONSTRAINT grid_boundary_valid CHECK (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary)),
    generation_low  integer NOT NULL REFERENCES generation (id),
    generation_high integer REFERENCES generation (id),
    CONSTRAINT grid_code_prefix_is_community CHECK (left(code, 12) = community_code),
    CONSTRAINT grid_generation_range CHECK (generation_high IS NULL OR generation_high >= generation_low),
    -- one grid per code in any generation
    CONSTRAINT grid_one_per_code_per_generation EXCLUDE USING gist (
        code WITH =,
        int4range(generation_low, coalesce(generation_high, 2147483646), '[]') WITH &&)
        DEFERRABLE INITIALLY DEFERRED
);
-- one current grid per code
CREATE UNIQUE INDEX grid_current_code_uq ON grid (code) WHERE generation_high IS NULL;
CREATE INDEX grid_boundary_gix ON grid USING gist (boundary);
CREATE INDEX grid_community_idx ON grid (community_code);
CREATE INDEX grid_generation_idx ON grid (generation_low, generation_high);

-- a grid community must be a village-level division
CREATE FUNCTION gridmap_check_grid_community() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM division WHERE code = NEW.community_code AND level = 'village') THEN
        RAISE EXCEPTION 'grid % belongs to % which is not a community or village', NEW.code, NEW.community_code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER grid_community_is_village BEFORE INSERT OR UPDATE OF community_code ON grid
    FOR EACH ROW EXECUTE FUNCTION gridmap_check_grid_community();
CREATE TRIGGER grid_code_community_is_village BEFORE INSERT OR UPDATE OF community_code ON grid_code
    FOR EACH ROW EXECUTE FUNCTION gridmap_check_grid_community();

-- --------------------------------------------------------------- legacy layers
CREATE TABLE legacy_grid (
    id             bigserial PRIMARY KEY,
    layer          text NOT NULL CONSTRAINT legacy_layer_known CHECK (layer IN ('party', 'governance', 'civil')),
    source_code    text NOT NULL CHECK (source_code <> ''),
    name           text NOT NULL DEFAULT '',
    community_code text REFERENCES division (code),
    boundary       geometry(MultiPolygon, 4490) NOT NULL
                   CONSTRAINT legacy_boundary_valid CHECK (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary)),
    -- local serials (民政-03) are unique only within their community
    CONSTRAINT legacy_source_code_unique UNIQUE NULLS NOT DISTINCT (layer, community_code, source_code)
);
CREATE INDEX legacy_grid_boundary_gix ON legacy_grid USING gist (boundary);

CREATE TABLE crosswalk (
    id              bigserial PRIMARY KEY,
    generation      integer NOT NULL REFERENCES generation (id),
    legacy_id       bigint NOT NULL REFERENCES legacy_grid (id) ON DELETE CASCADE,
    grid_code       text NOT NULL REFERENCES grid_code (code),
    area_share      double precision NOT NULL CHECK (area_share >= 0 AND area_share <= 1.000001),
    household_share double precision CHECK (household_share >= 0 AND household_share <= 1.000001),
    CONSTRAINT crosswalk_pair_unique UNIQUE (generation, legacy_id, grid_code)
);

-- --------------------------------------------------------------- buildings and units
-- A building keeps the id it was imported with (external_id); its grid is found
-- spatially, because buildings change grids when boundaries are redrawn.
CREATE TABLE building (
    id             bigserial PRIMARY KEY,
    external_id    text NOT NULL UNIQUE CHECK (external_id <> ''),
    community_code text NOT NULL REFERENCES division (code),
    road           text,
    house_number   text,
    compound       text,
    hamlet         text,
    group_no       text,
    building_no    text,
    households     integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    floors         integer CHECK (floors IS NULL OR floors > 0),
    footprint      geometry(MultiPolygon, 4490)
                   CONSTRAINT building_footprint_valid CHECK (footprint IS NULL OR (ST_IsValid(footprint) AND NOT ST_IsEmpty(footprint))),
    point          geometry(Point, 4490) NOT NULL
);
CREATE INDEX building_point_gix ON building USING gist (point);
CREATE INDEX building_footprint_gix ON building USING gist (footprint);
CREATE INDEX building_community_idx ON building (community_code);
CREATE INDEX building_road_no_idx ON building (community_code, road, house_number);
CREATE INDEX building_compound_no_idx ON building (community_code, compound, building_no);
CREATE INDEX building_compound_trgm ON building USING gin (compound gin_trgm_ops);
CREATE INDEX building_road_trgm ON building USING gin (road gin_trgm_ops);

CREATE TABLE unit (
    id          bigserial PRIMARY KEY,
    building_id bigint NOT NULL REFERENCES building (id) ON DELETE CASCADE,
    unit_no     text NOT NULL CHECK (unit_no <> ''),
    households  integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    CONSTRAINT unit_number_unique UNIQUE (building_id, unit_no)
);

-- --------------------------------------------------------------- people and chiefs
CREATE TABLE person (
    id          bigserial PRIMARY KEY,
    external_id text NOT NULL UNIQUE CHECK (external_id <> ''),
    name        text NOT NULL CHECK (name <> ''),
    phone       text CHECK (phone IS NULL OR phone ~ '^[0-9+\-]{5,20}$')
);

CREATE TABLE assignment (
    id          bigserial PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    role        text NOT NULL CONSTRAINT assignment_role_known
                CHECK (role IN ('grid_chief', 'building_chief', 'unit_chief')),
    grid_code   text REFERENCES grid_code (code),
    building_id bigint REFERENCES building (id) ON DELETE CASCADE,
    unit_id     bigint REFERENCES unit (id) ON DELETE CASCADE,
    since       date NOT NULL,
    until       date,
    CONSTRAINT assignment_target_matches_role CHECK (
        (role = 'grid_chief' AND grid_code IS NOT NULL AND building_id IS NULL AND unit_id IS NULL)
     OR (role = 'building_chief' AND grid_code IS NULL AND building_id IS NOT NULL AND unit_id IS NULL)
     OR (role = 'unit_chief' AND grid_code IS NULL AND building_id IS NULL AND unit_id IS NOT NULL)),
    CONSTRAINT assignment_dates_ordered CHECK (until IS NULL OR until >= since)
);
CREATE INDEX assignment_grid_idx ON assignment (grid_code) WHERE grid_code IS NOT NULL;
CREATE INDEX assignment_building_idx ON assignment (building_id) WHERE building_id IS NOT NULL;
CREATE INDEX assignment_unit_idx ON assignment (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX assignment_person_idx ON assignment (person_id, role, since);
-- at most one current chief per post
CREATE UNIQUE INDEX assignment_one_current_grid_chief ON assignment (grid_code)
    WHERE role = 'grid_chief' AND until IS NULL;
CREATE UNIQUE INDEX assignment_one_current_building_chief ON assignment (building_id)
    WHERE role = 'building_chief' AND until IS NULL;
CREATE UNIQUE INDEX assignment_one_current_unit_chief ON assignment (unit_id)
    WHERE role = 'unit_chief' AND until IS NULL;

-- --------------------------------------------------------------- convenience views
-- the generation in force: the newest activated one
CREATE VIEW current_generation AS
    SELECT max(id) AS id FROM generation WHERE activated_at IS NOT NULL;

CREATE VIEW current_grid AS
    SELECT g.* FROM grid g, current_generation c
    WHERE g.generation_low <= c.id AND (g.generation_high IS NULL OR g.generation_high >= c.id);
