-- Complaint handling (DOMAIN.md §4): work calendars for working-time SLAs, the complaint
-- with its events, department tasks, remedy approvals, repeats, SLA alerts, corrective
-- actions (CAPA / 8D), attachments and in-app notifications.

CREATE TABLE work_calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    utc_offset_minutes BIGINT NOT NULL,
    periods TEXT NOT NULL,
    weekdays TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Statutory holidays and make-up working days (调休) of a calendar.
CREATE TABLE calendar_days (
    calendar_id BIGINT NOT NULL REFERENCES work_calendars (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE complaint_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organizations (id),
    number_prefix TEXT NOT NULL,
    number_digits BIGINT NOT NULL,
    recurrence_days BIGINT NOT NULL,
    return_visit_days BIGINT NOT NULL,
    warn_percent BIGINT NOT NULL,
    capa_effect_days BIGINT NOT NULL,
    capa_effect_units BIGINT NOT NULL,
    attachment_max_bytes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

-- Next sequence number per organization and year of receipt.
CREATE TABLE complaint_counters (
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    year BIGINT NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

-- Working-time budgets in minutes; contract_level '' applies when no contract matches.
CREATE TABLE sla_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    severity TEXT NOT NULL,
    contract_level TEXT NOT NULL,
    ack_minutes BIGINT,
    response_minutes BIGINT,
    remedy_minutes BIGINT,
    close_minutes BIGINT,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, severity, contract_level)
);

-- Who must approve a remedy: a rule matches when every condition it sets holds.
CREATE TABLE approval_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    remedy_type TEXT,
    min_amount_fen BIGINT,
    responsibility TEXT,
    severity TEXT,
    approver_role TEXT,
    approver_department_id BIGINT REFERENCES departments (id),
    note TEXT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX approval_rules_org ON approval_rules (org_id);

-- The seed's responsibility matrix: which department gets which task at which step.
CREATE TABLE responsibility_matrix (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    step TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments (id),
    duty TEXT NOT NULL,
    sort BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX responsibility_matrix_org ON responsibility_matrix (org_id, step);

CREATE TABLE complaints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    number TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    class TEXT NOT NULL,
    severity TEXT NOT NULL,
    fault_category TEXT,
    received_at BIGINT NOT NULL,
    acknowledged_at BIGINT NOT NULL,
    customer_id BIGINT REFERENCES customers (id),
    customer_name TEXT NOT NULL,
    contact_name TEXT,
    contact_phone TEXT,
    address TEXT,
    order_id BIGINT REFERENCES orders (id),
    order_no TEXT,
    product_id BIGINT REFERENCES products (id),
    part_no TEXT,
    equipment_id BIGINT REFERENCES equipment (id),
    serial TEXT,
    batch_no TEXT,
    ship_date TEXT,
    quantity BIGINT,
    defective_quantity BIGINT,
    days_in_service BIGINT,
    description TEXT NOT NULL,
    demand TEXT,
    responsibility TEXT,
    responsible_department_id BIGINT REFERENCES departments (id),
    investigation TEXT,
    cause TEXT,
    inspection_result TEXT,
    inspection_basis TEXT,
    explanation TEXT,
    customer_response TEXT,
    remedy_type TEXT,
    remedy_amount_fen BIGINT,
    remedy_detail TEXT,
    remedy_proposed_by TEXT,
    agreed_reply_date TEXT,
    approval_round BIGINT NOT NULL,
    implementation TEXT,
    visit_due TEXT,
    visit_result TEXT,
    visit_note TEXT,
    repeat_count BIGINT NOT NULL,
    capa_required BOOLEAN NOT NULL,
    reopen_count BIGINT NOT NULL,
    contract_level TEXT,
    paused_at BIGINT,
    confirmed_at BIGINT,
    first_response_at BIGINT,
    remedy_agreed_at BIGINT,
    closed_at BIGINT,
    ack_due BIGINT,
    response_due BIGINT,
    remedy_due BIGINT,
    close_due BIGINT,
    next_due BIGINT,
    warn_at BIGINT,
    ack_met BOOLEAN,
    response_met BOOLEAN,
    remedy_met BOOLEAN,
    close_met BOOLEAN,
    resolution_secs BIGINT,
    month TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
-- Figures read these without touching the table (the names are looked up by
-- store::complaints::figures on SQLite); the first also serves the newest-first list.
CREATE INDEX complaints_org_figures ON complaints (org_id, received_at, class, resolution_secs, reopen_count,
    repeat_count, ack_met, response_met, remedy_met, close_met, fault_category, part_no, responsible_department_id);
CREATE INDEX complaints_org_fault ON complaints (org_id, fault_category, class, received_at);
CREATE INDEX complaints_org_dept_received ON complaints (org_id, responsible_department_id, received_at, class,
    fault_category, part_no, resolution_secs, reopen_count, repeat_count, ack_met, response_met, remedy_met, close_met);
CREATE INDEX complaints_org_status_due ON complaints (org_id, status, next_due);
CREATE INDEX complaints_org_next_due ON complaints (org_id, next_due);
CREATE INDEX complaints_org_warn ON complaints (warn_at);
CREATE INDEX complaints_org_customer ON complaints (org_id, customer_id, received_at);
CREATE INDEX complaints_org_product ON complaints (org_id, product_id);
CREATE INDEX complaints_org_department ON complaints (org_id, responsible_department_id, status);
CREATE INDEX complaints_org_month ON complaints (org_id, month);
CREATE INDEX complaints_org_part ON complaints (org_id, part_no, received_at);
CREATE INDEX complaints_org_serial ON complaints (org_id, serial, received_at);
CREATE INDEX complaints_org_resolution_received ON complaints (org_id, resolution_secs, received_at);
-- Units shipped in an interval (complaints per 1,000 units) without scanning every order.
CREATE INDEX orders_org_ship ON orders (org_id, ship_date);
DROP INDEX order_lines_order;
CREATE INDEX order_lines_order_product ON order_lines (order_id, product_id, quantity);

-- Intervals while the complaint waits on the customer: the SLA clock stops.
CREATE TABLE complaint_pauses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    reason TEXT
);
CREATE INDEX complaint_pauses_complaint ON complaint_pauses (complaint_id);

-- Every move: who, when, from which status to which, and why.
CREATE TABLE complaint_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    data TEXT
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at);

CREATE TABLE complaint_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    step TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments (id),
    duty TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by BIGINT REFERENCES users (id),
    note TEXT
);
CREATE INDEX complaint_tasks_complaint ON complaint_tasks (complaint_id);
CREATE INDEX complaint_tasks_department ON complaint_tasks (org_id, department_id, status);

CREATE TABLE complaint_approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    round BIGINT NOT NULL,
    rule_id BIGINT REFERENCES approval_rules (id),
    approver_role TEXT,
    approver_department_id BIGINT REFERENCES departments (id),
    decision TEXT,
    decided_by BIGINT REFERENCES users (id),
    decided_at BIGINT,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX complaint_approvals_complaint ON complaint_approvals (complaint_id, round);
CREATE INDEX complaint_approvals_pending ON complaint_approvals (org_id, decision);

-- A repeat complaint and each earlier complaint it matched.
CREATE TABLE complaint_repeats (
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    earlier_id BIGINT NOT NULL REFERENCES complaints (id),
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (complaint_id, earlier_id)
);
CREATE INDEX complaint_repeats_earlier ON complaint_repeats (earlier_id);

-- One row per SLA warning or breach sent: the primary key makes each fire once, whatever
-- the number of workers.
CREATE TABLE complaint_alerts (
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    target TEXT NOT NULL,
    level TEXT NOT NULL,
    round BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (complaint_id, target, level, round)
);

-- Corrective and preventive action (CAPA / 8D).
CREATE TABLE capas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    number TEXT NOT NULL,
    complaint_id BIGINT REFERENCES complaints (id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    due_date TEXT,
    customer_id BIGINT REFERENCES customers (id),
    product_id BIGINT REFERENCES products (id),
    part_no TEXT,
    fault_category TEXT,
    d1_team TEXT,
    d2_problem TEXT,
    d3_containment TEXT,
    d4_occurrence TEXT,
    d4_escape TEXT,
    d5_action TEXT,
    d6_validation TEXT,
    d7_prevention TEXT,
    d8_closure TEXT,
    effect_days BIGINT NOT NULL,
    effect_units BIGINT NOT NULL,
    effect_started_at BIGINT,
    effect_checked_at BIGINT,
    effect_result TEXT,
    closed_at BIGINT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX capas_org_status ON capas (org_id, status);
CREATE INDEX capas_complaint ON capas (complaint_id);

CREATE TABLE capa_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    capa_id BIGINT NOT NULL REFERENCES capas (id),
    discipline TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    due_date TEXT NOT NULL,
    done_at BIGINT,
    result TEXT,
    escalated_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX capa_actions_capa ON capa_actions (capa_id);
CREATE INDEX capa_actions_due ON capa_actions (org_id, done_at, due_date);

-- Files kept in the database so that every instance can serve them.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_entity ON attachments (org_id, entity, entity_id);

-- In-app notifications: SLA warnings, escalations, approvals waiting, overdue actions.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    ref_kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    args TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, org_id, read_at);
