-- API keys with roles and scopes, and the append-only audit trail.

-- A key is stored as the SHA-256 of its text (the text is shown once, when it is made).
-- role: public < grid_worker (full contact data for its scope only) < planner < admin.
-- scope: grid or division codes; a grid worker sees contact data of the grids in them.
CREATE TABLE api_key (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL CHECK (name <> ''),
    prefix          text NOT NULL,
    hash            text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    role            text NOT NULL CONSTRAINT api_key_role_known
                    CHECK (role IN ('public', 'grid_worker', 'planner', 'admin')),
    scope           text[] NOT NULL DEFAULT '{}',
    rate_per_minute integer NOT NULL DEFAULT 600 CHECK (rate_per_minute > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    CONSTRAINT api_key_scope_codes CHECK (
        array_to_string(scope, ',') ~ '^([0-9]{12}|[0-9]{15})?(,([0-9]{12}|[0-9]{15}))*$'),
    CONSTRAINT api_key_grid_worker_scoped CHECK (role <> 'grid_worker' OR cardinality(scope) > 0)
);

-- Who changed what, and when: keys, imports, merges, plans, the roster. Append-only.
CREATE TABLE audit_event (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text,
    before  jsonb,
    after   jsonb
);
CREATE INDEX audit_event_at_idx ON audit_event (at);
CREATE INDEX audit_event_target_idx ON audit_event (target);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of audit_event refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
