-- Maintenance and service orders (DOMAIN.md §1.4, §5): spare parts with stock per location,
-- checklist templates whose levels nest, maintenance plans, service orders of every type
-- with their checklist results, parts used and customer sign-off, and engineer profiles
-- for dispatch.

CREATE TABLE parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    unit_cost_fen BIGINT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE stock_locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Quantity on hand; the CHECK is the last line of defence, the UPDATE … WHERE qty >= n the first.
CREATE TABLE part_stock (
    part_id BIGINT NOT NULL REFERENCES parts (id),
    location_id BIGINT NOT NULL REFERENCES stock_locations (id),
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    qty BIGINT NOT NULL CHECK (qty >= 0),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (part_id, location_id)
);

-- Every stock movement (receipt, use on an order, correction).
CREATE TABLE stock_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    part_id BIGINT NOT NULL REFERENCES parts (id),
    location_id BIGINT NOT NULL REFERENCES stock_locations (id),
    delta BIGINT NOT NULL,
    reason TEXT NOT NULL,
    order_id BIGINT,
    user_id BIGINT REFERENCES users (id),
    at BIGINT NOT NULL
);
CREATE INDEX stock_moves_part ON stock_moves (org_id, part_id, at);

-- A checklist level (routine, quarterly, annual, or another); `includes_id` is the level
-- below it, whose items it includes.
CREATE TABLE checklist_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    includes_id BIGINT REFERENCES checklist_templates (id),
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    template_id BIGINT NOT NULL REFERENCES checklist_templates (id),
    group_code TEXT NOT NULL,
    group_name TEXT NOT NULL,
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT,
    min_value DOUBLE PRECISION,
    max_value DOUBLE PRECISION,
    required BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX checklist_items_template ON checklist_items (template_id, position);

-- A plan for one unit, or for every unit of a product.
CREATE TABLE maintenance_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    equipment_id BIGINT REFERENCES equipment (id),
    product_id BIGINT REFERENCES products (id),
    template_id BIGINT NOT NULL REFERENCES checklist_templates (id),
    interval_days BIGINT NOT NULL,
    mode TEXT NOT NULL,
    meter_interval BIGINT,
    meter_unit TEXT,
    start_date TEXT NOT NULL,
    lead_days BIGINT NOT NULL,
    horizon_days BIGINT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX maintenance_plans_org ON maintenance_plans (org_id, active);

CREATE TABLE service_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    equipment_id BIGINT REFERENCES equipment (id),
    customer_id BIGINT REFERENCES customers (id),
    product_id BIGINT REFERENCES products (id),
    site TEXT,
    plan_id BIGINT REFERENCES maintenance_plans (id),
    template_id BIGINT REFERENCES checklist_templates (id),
    due_date TEXT,
    complaint_id BIGINT REFERENCES complaints (id),
    source_order_id BIGINT REFERENCES service_orders (id),
    engineer_id BIGINT REFERENCES users (id),
    reported_at BIGINT NOT NULL,
    scheduled_start BIGINT,
    scheduled_end BIGINT,
    dispatched_at BIGINT,
    arrived_at BIGINT,
    completed_at BIGINT,
    accepted_at BIGINT,
    accepted_by TEXT,
    signature TEXT,
    rating BIGINT,
    closed_at BIGINT,
    cancelled_at BIGINT,
    cancel_reason TEXT,
    symptom TEXT,
    diagnosis TEXT,
    cause TEXT,
    actions TEXT,
    labor_minutes BIGINT,
    fee_fen BIGINT NOT NULL,
    parts_cost_fen BIGINT NOT NULL,
    first_time_fix BOOLEAN,
    overdue_notified_at BIGINT,
    month TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
-- Exactly one order per plan and due date, however many schedulers run.
CREATE UNIQUE INDEX service_orders_plan_due ON service_orders (plan_id, equipment_id, due_date);
CREATE INDEX service_orders_org_status ON service_orders (org_id, status, due_date);
CREATE INDEX service_orders_org_engineer ON service_orders (org_id, engineer_id, scheduled_start);
CREATE INDEX service_orders_org_equipment ON service_orders (org_id, equipment_id, completed_at);
CREATE INDEX service_orders_org_month ON service_orders (org_id, month, kind);
CREATE INDEX service_orders_org_customer ON service_orders (org_id, customer_id);

CREATE TABLE service_order_results (
    order_id BIGINT NOT NULL REFERENCES service_orders (id),
    item_id BIGINT NOT NULL REFERENCES checklist_items (id),
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    outcome TEXT,
    value DOUBLE PRECISION,
    note TEXT,
    attachment_id BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, item_id)
);

-- Parts used on an order; `client_key` makes a re-sent form a no-op.
CREATE TABLE service_order_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    order_id BIGINT NOT NULL REFERENCES service_orders (id),
    part_id BIGINT NOT NULL REFERENCES parts (id),
    location_id BIGINT NOT NULL REFERENCES stock_locations (id),
    qty BIGINT NOT NULL,
    unit_cost_fen BIGINT NOT NULL,
    client_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (order_id, client_key)
);

CREATE TABLE service_order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    order_id BIGINT NOT NULL REFERENCES service_orders (id),
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT
);
CREATE INDEX service_order_events_order ON service_order_events (order_id, at);

-- Dispatch: regions and skills of an engineer (user) in an organization.
CREATE TABLE engineer_profiles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    regions TEXT NOT NULL,
    skills TEXT NOT NULL,
    team TEXT,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (user_id, org_id)
);

CREATE TABLE service_order_counters (
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    year BIGINT NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

-- Figures read these partial indexes alone: PM compliance by due date, repairs by report
-- time, and the repeat-repair check per unit.
CREATE INDEX service_orders_org_pm ON service_orders
    (org_id, kind, due_date, engineer_id, status, completed_at, product_id, customer_id)
    WHERE kind = 'maintenance';
CREATE INDEX service_orders_org_repairs ON service_orders
    (org_id, kind, reported_at, status, equipment_id, product_id, engineer_id, customer_id,
     arrived_at, completed_at, first_time_fix)
    WHERE kind = 'repair';
CREATE INDEX service_orders_org_unit_repairs ON service_orders (org_id, equipment_id, completed_at, kind)
    WHERE kind = 'repair';
