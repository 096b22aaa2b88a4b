-- Residents' appeals (接诉即办) and the responsibility lists that route them: every matter
-- has one owner at each place (a street, a community, a grid, a named department or a
-- public-service company), with a time limit in working hours or days.

-- --------------------------------------------------------------- responsibility lists
CREATE TABLE matter (
    code        text PRIMARY KEY
                CONSTRAINT matter_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    name        text NOT NULL CHECK (name <> ''),
    parent_code text REFERENCES matter (code) DEFERRABLE INITIALLY DEFERRED,
    keywords    text[] NOT NULL DEFAULT '{}',
    description text NOT NULL DEFAULT '',
    CONSTRAINT matter_not_own_parent CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX matter_parent_idx ON matter (parent_code);

-- Departments and public-service companies. serves: the division codes they serve
-- (empty: everywhere); a company duty names a service and the company serving the place
-- is chosen by the most specific of these codes.
CREATE TABLE body (
    code    text PRIMARY KEY
            CONSTRAINT body_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    name    text NOT NULL CHECK (name <> ''),
    kind    text NOT NULL CONSTRAINT body_kind_known CHECK (kind IN ('department', 'company')),
    service text NOT NULL DEFAULT '',
    contact text NOT NULL DEFAULT '',
    serves  text[] NOT NULL DEFAULT '{}',
    CONSTRAINT body_serves_codes CHECK (
        array_to_string(serves, ',') ~ '^([0-9]{12})?(,[0-9]{12})*$')
);

-- One owner per matter per place: division_code NULL is the list's default everywhere;
-- an entry for a division overrides it there and below.
CREATE TABLE duty (
    id            bigserial PRIMARY KEY,
    list          text NOT NULL CONSTRAINT duty_list_known
                  CHECK (list IN ('street_duty', 'community_power', 'community_service', 'other')),
    matter_code   text NOT NULL REFERENCES matter (code) ON DELETE CASCADE,
    division_code text REFERENCES division (code),
    owner         text NOT NULL CONSTRAINT duty_owner_known
                  CHECK (owner IN ('street', 'community', 'grid', 'department', 'company')),
    body_code     text REFERENCES body (code),
    service       text NOT NULL DEFAULT '',
    time_limit    integer NOT NULL CHECK (time_limit > 0),
    time_unit     text NOT NULL CONSTRAINT duty_time_unit_known
                  CHECK (time_unit IN ('hours', 'days', 'clock_hours')),
    basis         text NOT NULL DEFAULT '',
    note          text NOT NULL DEFAULT '',
    CONSTRAINT duty_owner_named CHECK (
        (owner = 'department' AND body_code IS NOT NULL)
     OR (owner = 'company' AND (body_code IS NOT NULL OR service <> ''))
     OR (owner IN ('street', 'community', 'grid') AND body_code IS NULL)),
    CONSTRAINT duty_one_owner UNIQUE NULLS NOT DISTINCT (matter_code, division_code)
);

-- The working calendar: days that differ from Monday-Friday (public holidays off, and the
-- weekend days worked in exchange, 调休).
CREATE TABLE calendar_day (
    day     date PRIMARY KEY,
    working boolean NOT NULL,
    note    text NOT NULL DEFAULT ''
);

-- --------------------------------------------------------------- roles for appeals
-- department: the staff of one body (body_code); dispatcher: a street's (or a district's)
-- dispatch desk, scoped by division codes.
ALTER TABLE api_key DROP CONSTRAINT api_key_role_known;
ALTER TABLE api_key ADD CONSTRAINT api_key_role_known CHECK (
    role IN ('public', 'grid_worker', 'department', 'dispatcher', 'planner', 'admin'));
ALTER TABLE api_key ADD COLUMN body_code text REFERENCES body (code);
ALTER TABLE api_key ADD CONSTRAINT api_key_department_body CHECK (
    (role = 'department') = (body_code IS NOT NULL));
ALTER TABLE api_key ADD CONSTRAINT api_key_dispatcher_scoped CHECK (
    role <> 'dispatcher' OR cardinality(scope) > 0);

-- --------------------------------------------------------------- appeals
CREATE TABLE appeal (
    id             bigserial PRIMARY KEY,
    matter_code    text NOT NULL REFERENCES matter (code),
    description    text NOT NULL CHECK (description <> '' AND length(description) <= 4000),
    channel        text NOT NULL CONSTRAINT appeal_channel_known
                   CHECK (channel IN ('hotline', 'app', 'grid_worker', 'walk_in', 'open311')),
    contact_name   text,
    contact_phone  text CHECK (contact_phone IS NULL OR contact_phone ~ '^[0-9+\-]{5,20}$'),
    contact_email  text,
    address        text,
    location       geometry(Point, 4490),
    grid_code      text REFERENCES grid_code (code),
    community_code text REFERENCES division (code),
    street_code    text REFERENCES division (code),
    county_code    text REFERENCES division (code),
    duty_id        bigint REFERENCES duty (id) ON DELETE SET NULL,
    -- who holds it now: dispatch is the street's dispatch queue (or the district's, when
    -- even the street is unknown), with route_note saying why
    owner_kind     text NOT NULL CONSTRAINT appeal_owner_known CHECK (
                   owner_kind IN ('street', 'community', 'grid', 'department', 'company', 'dispatch')),
    owner_code     text NOT NULL DEFAULT '',
    owner_name     text NOT NULL,
    route_note     text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT 'received' CONSTRAINT appeal_state_known CHECK (
                   state IN ('received', 'signed', 'handled', 'verifying', 'callback', 'closed',
                             'returned', 'reopened')),
    time_limit     integer CHECK (time_limit > 0),
    time_unit      text CHECK (time_unit IN ('hours', 'days', 'clock_hours')),
    received_at    timestamptz NOT NULL DEFAULT now(),
    deadline       timestamptz,
    signed_at      timestamptz,
    handled_at     timestamptz,
    submitted_at   timestamptz,
    verified_at    timestamptz,
    closed_at      timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    satisfaction   text CONSTRAINT appeal_satisfaction_known
                   CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')),
    reopened       integer NOT NULL DEFAULT 0 CHECK (reopened >= 0),
    created_by     text NOT NULL,
    key_id         bigint REFERENCES api_key (id),
    token_hash     text CHECK (token_hash IS NULL OR token_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT appeal_deadline_with_limit CHECK ((deadline IS NULL) = (time_limit IS NULL))
);
CREATE INDEX appeal_street_idx ON appeal (street_code, state);
CREATE INDEX appeal_county_idx ON appeal (county_code, state);
CREATE INDEX appeal_open_grid_idx ON appeal (grid_code) WHERE state <> 'closed';
CREATE INDEX appeal_owner_idx ON appeal (owner_kind, owner_code) WHERE state <> 'closed';
CREATE INDEX appeal_matter_idx ON appeal (matter_code, state);
CREATE INDEX appeal_received_idx ON appeal (received_at);
CREATE INDEX appeal_key_idx ON appeal (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX appeal_location_gix ON appeal USING gist (location) WHERE state <> 'closed';

-- Every transition: who, when, from which state to which, and why. Append-only.
CREATE TABLE appeal_event (
    id           bigserial PRIMARY KEY,
    appeal_id    bigint NOT NULL REFERENCES appeal (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,
    action       text NOT NULL,
    from_state   text,
    to_state     text NOT NULL,
    note         text NOT NULL DEFAULT '',
    owner_kind   text,
    owner_code   text,
    owner_name   text,
    satisfaction text
);
CREATE INDEX appeal_event_appeal_idx ON appeal_event (appeal_id, at);
CREATE TRIGGER appeal_event_no_update BEFORE UPDATE OR DELETE ON appeal_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();

-- Photos: in the database (data) or in a configured directory (path, relative to it).
CREATE TABLE appeal_photo (
    id           bigserial PRIMARY KEY,
    appeal_id    bigint NOT NULL REFERENCES appeal (id) ON DELETE CASCADE,
    content_type text NOT NULL CONSTRAINT appeal_photo_type_known
                 CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size         integer NOT NULL CHECK (size > 0),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data         bytea,
    path         text,
    added_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT appeal_photo_stored_once CHECK ((data IS NULL) <> (path IS NULL))
);
CREATE INDEX appeal_photo_appeal_idx ON appeal_photo (appeal_id);

-- The outbox of notices: to the grid chief of the appeal's grid and to its owner. Another
-- system (SMS, the work app) delivers them and sets sent_at.
CREATE TABLE appeal_notice (
    id        bigserial PRIMARY KEY,
    appeal_id bigint NOT NULL REFERENCES appeal (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    recipient text NOT NULL CHECK (recipient IN ('grid_chief', 'owner', 'dispatcher')),
    person_id bigint REFERENCES person (id),
    target    text NOT NULL DEFAULT '',
    message   text NOT NULL,
    sent_at   timestamptz
);
CREATE INDEX appeal_notice_unsent_idx ON appeal_notice (at) WHERE sent_at IS NULL;
