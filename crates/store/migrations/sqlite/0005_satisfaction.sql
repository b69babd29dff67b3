-- Return visits (回访) and satisfaction measurement (DOMAIN.md §6, §7): visit rules and
-- records, versioned survey templates, studies with their sample and answer links,
-- responses and answers, and the cached statistics of a study.

-- Per-organization rules; a row is created with the defaults on first use.
CREATE TABLE visit_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organizations (id),
    -- working days after a complaint reaches its return visit / a service order completes
    complaint_days BIGINT NOT NULL,
    order_days BIGINT NOT NULL,
    -- sampling of completed service orders per month: tier1_percent of the first tier1_max,
    -- tier2_percent of those up to tier2_max, tier3_percent above
    tier1_max BIGINT NOT NULL,
    tier1_percent BIGINT NOT NULL,
    tier2_max BIGINT NOT NULL,
    tier2_percent BIGINT NOT NULL,
    tier3_percent BIGINT NOT NULL,
    -- a visit rated at or below this (1-5) is unsatisfied
    low_rating BIGINT NOT NULL,
    -- a survey response scoring at or below this (0-100) triggers low_score_action
    low_score BIGINT NOT NULL,
    low_score_action TEXT NOT NULL,
    -- default validity of an answer link, days
    link_days BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE survey_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL,
    version_no BIGINT NOT NULL,
    name TEXT NOT NULL,
    intro TEXT,
    -- active | superseded (a newer version exists) | retired
    status TEXT NOT NULL,
    previous_id BIGINT REFERENCES survey_templates (id),
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, code, version_no)
);

-- Dimensions are service stages (or CCSI / ACSI latent variables).
CREATE TABLE survey_dimensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id BIGINT NOT NULL REFERENCES survey_templates (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX survey_dimensions_template ON survey_dimensions (template_id, position);

CREATE TABLE survey_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id BIGINT NOT NULL REFERENCES survey_templates (id),
    dimension_id BIGINT REFERENCES survey_dimensions (id),
    position BIGINT NOT NULL,
    -- scale (a dimension item with a weight) | csat (overall satisfaction) | nps (0-10)
    -- | ces (1-7 ease) | text (free text)
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    scale_min BIGINT,
    scale_max BIGINT,
    -- importance weight of a scale item; normalised when CSI is computed
    weight DOUBLE PRECISION NOT NULL,
    required BOOLEAN NOT NULL
);
CREATE INDEX survey_items_template ON survey_items (template_id, position);

CREATE TABLE studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    template_id BIGINT NOT NULL REFERENCES survey_templates (id),
    name TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- the population filter as JSON (region, product_id, contract_level, served_from…)
    population TEXT NOT NULL,
    population_size BIGINT NOT NULL,
    confidence_percent BIGINT NOT NULL,
    margin_percent DOUBLE PRECISION NOT NULL,
    sample_size BIGINT NOT NULL,
    seed BIGINT NOT NULL,
    -- draft | open | closed
    status TEXT NOT NULL,
    link_days BIGINT NOT NULL,
    invited BIGINT NOT NULL,
    responses BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX studies_org ON studies (org_id, period_start);

-- One invitation per sampled customer; the token is the customer's answer link.
-- product / engineer / region / outlet are the breakdown keys, fixed when invited.
CREATE TABLE study_invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    study_id BIGINT NOT NULL REFERENCES studies (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    contact_name TEXT,
    contact_phone TEXT,
    token TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    -- pending | answered | revoked
    status TEXT NOT NULL,
    answered_at BIGINT,
    product_id BIGINT REFERENCES products (id),
    engineer_id BIGINT REFERENCES users (id),
    region TEXT,
    outlet_id BIGINT REFERENCES outlets (id),
    service_order_id BIGINT REFERENCES service_orders (id),
    created_at BIGINT NOT NULL,
    UNIQUE (study_id, customer_id)
);
CREATE INDEX study_invitations_study ON study_invitations (study_id, status);

-- invitation_id is unique: one answer per link, however often it is submitted.
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    study_id BIGINT NOT NULL REFERENCES studies (id),
    invitation_id BIGINT UNIQUE REFERENCES study_invitations (id),
    template_id BIGINT NOT NULL REFERENCES survey_templates (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    -- link | phone
    channel TEXT NOT NULL,
    entered_by BIGINT REFERENCES users (id),
    submitted_at BIGINT NOT NULL,
    -- this response's weighted score on 0-100 (its own CSI), null without scale answers
    score DOUBLE PRECISION,
    product_id BIGINT REFERENCES products (id),
    engineer_id BIGINT REFERENCES users (id),
    region TEXT,
    outlet_id BIGINT REFERENCES outlets (id)
);
CREATE INDEX survey_responses_study ON survey_responses (study_id, submitted_at);
CREATE INDEX survey_responses_customer ON survey_responses (org_id, customer_id);

-- study_id is copied from the response so a study's aggregates read one index.
CREATE TABLE survey_answers (
    response_id BIGINT NOT NULL REFERENCES survey_responses (id),
    item_id BIGINT NOT NULL REFERENCES survey_items (id),
    study_id BIGINT NOT NULL,
    value DOUBLE PRECISION,
    text TEXT,
    PRIMARY KEY (response_id, item_id)
);
CREATE INDEX survey_answers_study_item ON survey_answers (study_id, item_id, value);

-- The computed statistics of a study, valid while responses = studies.responses.
CREATE TABLE study_stats (
    study_id BIGINT PRIMARY KEY REFERENCES studies (id),
    responses BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE return_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    -- complaint | service_order | survey (a low score's follow-up) | manual
    source TEXT NOT NULL,
    complaint_id BIGINT REFERENCES complaints (id),
    service_order_id BIGINT REFERENCES service_orders (id),
    response_id BIGINT REFERENCES survey_responses (id),
    customer_id BIGINT REFERENCES customers (id),
    equipment_id BIGINT REFERENCES equipment (id),
    engineer_id BIGINT REFERENCES users (id),
    assignee_id BIGINT REFERENCES users (id),
    -- planned | done | cancelled
    status TEXT NOT NULL,
    due_date TEXT NOT NULL,
    visited_at BIGINT,
    -- phone | on_site | online
    method TEXT,
    rating BIGINT,
    problem_category TEXT,
    customer_words TEXT,
    follow_up TEXT,
    satisfied BOOLEAN,
    -- closed | reopened | complaint_opened | none
    outcome TEXT,
    outcome_complaint_id BIGINT REFERENCES complaints (id),
    visitor_id BIGINT REFERENCES users (id),
    cancel_reason TEXT,
    month TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
-- At most one open visit per complaint; one visit per service order and per response.
CREATE UNIQUE INDEX return_visits_open_complaint ON return_visits (complaint_id) WHERE status = 'planned';
CREATE UNIQUE INDEX return_visits_order ON return_visits (service_order_id);
CREATE UNIQUE INDEX return_visits_response ON return_visits (response_id);
CREATE INDEX return_visits_org_status ON return_visits (org_id, status, due_date);
CREATE INDEX return_visits_org_assignee ON return_visits (org_id, assignee_id, status);
CREATE INDEX return_visits_org_month ON return_visits (org_id, month);

-- Completed service orders already considered by the sampling, with the decision, and the
-- running count per month that the systematic sampling steps through.
CREATE TABLE visit_order_marks (
    service_order_id BIGINT PRIMARY KEY REFERENCES service_orders (id),
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    month TEXT NOT NULL,
    position BIGINT NOT NULL,
    picked BOOLEAN NOT NULL
);
CREATE TABLE visit_sampling (
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    month TEXT NOT NULL,
    seen BIGINT NOT NULL,
    picked BIGINT NOT NULL,
    PRIMARY KEY (org_id, month)
);
