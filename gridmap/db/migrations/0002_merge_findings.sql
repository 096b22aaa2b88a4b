-- The merge's quality findings (gaps and overlaps of the legacy layers, slivers given to a
-- grid), kept with the generation the merge wrote, so that maps served by the API can draw
-- them without the report files.
CREATE TABLE merge_finding (
    id             bigserial PRIMARY KEY,
    generation     integer NOT NULL REFERENCES generation (id),
    community_code text REFERENCES division (code) DEFERRABLE INITIALLY DEFERRED,
    kind           text NOT NULL CONSTRAINT merge_finding_kind CHECK (kind IN ('gap', 'overlap', 'sliver')),
    layer          text,
    area_m2        double precision NOT NULL CHECK (area_m2 >= 0),
    boundary       geometry(MultiPolygon, 4490) NOT NULL
);
CREATE INDEX merge_finding_generation ON merge_finding (generation, community_code);
CREATE INDEX merge_finding_boundary_gix ON merge_finding USING gist (boundary);
