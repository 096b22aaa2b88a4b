-- The merge's report checks the whole area as one coverage: grid edges that do not share
-- their neighbours' vertices, and grids that overlap, are findings the maps draw too.
ALTER TABLE merge_finding DROP CONSTRAINT merge_finding_kind;
ALTER TABLE merge_finding ADD CONSTRAINT merge_finding_kind
    CHECK (kind IN ('gap', 'overlap', 'sliver', 'invalid_edge', 'grid_overlap'));
