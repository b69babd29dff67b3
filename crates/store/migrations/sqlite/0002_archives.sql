-- Archives: customers with contacts and sites, products, orders with lines, installed
-- equipment with meter readings, service outlets; the shared timeline that every later
-- feature writes to; and the search index (n-gram tokens, see domain::search).
-- Tables whose rows can be deleted use AUTOINCREMENT so a deleted record's id (and so its
-- audit history) is never given to a new one; PostgreSQL identities never reuse ids.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    code TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    industry TEXT,
    region TEXT,
    address TEXT,
    tags TEXT NOT NULL,
    notes TEXT,
    owner_staff_id BIGINT REFERENCES staff (id),
    consent_contact BOOLEAN NOT NULL,
    consent_survey BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX customers_org_code ON customers (org_id, code);
CREATE INDEX customers_org_name ON customers (org_id, name);

CREATE TABLE customer_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    role TEXT,
    mobile TEXT,
    phone TEXT,
    email TEXT,
    wechat TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX customer_contacts_customer ON customer_contacts (org_id, customer_id);

CREATE TABLE customer_sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    region TEXT,
    address TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX customer_sites_customer ON customer_sites (org_id, customer_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    part_no TEXT NOT NULL,
    model TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    warranty_months BIGINT NOT NULL,
    contract_levels TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, part_no)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    order_no TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    delivery_no TEXT,
    ship_date TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, order_no)
);
CREATE INDEX orders_customer ON orders (org_id, customer_id);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    order_id BIGINT NOT NULL REFERENCES orders (id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL
);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE INDEX order_lines_product ON order_lines (org_id, product_id);

CREATE TABLE equipment (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    serial TEXT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    site_id BIGINT REFERENCES customer_sites (id),
    order_id BIGINT REFERENCES orders (id),
    install_date TEXT,
    warranty_end TEXT,
    warranty_overridden BOOLEAN NOT NULL,
    contract_level TEXT,
    contract_start TEXT,
    contract_end TEXT,
    sla_profile TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, serial)
);
CREATE INDEX equipment_customer ON equipment (org_id, customer_id);
CREATE INDEX equipment_product ON equipment (org_id, product_id);

CREATE TABLE meter_readings (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    equipment_id BIGINT NOT NULL REFERENCES equipment (id),
    read_on TEXT NOT NULL,
    value BIGINT NOT NULL,
    unit TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX meter_readings_equipment ON meter_readings (org_id, equipment_id, read_on);

CREATE TABLE outlets (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    regions TEXT NOT NULL,
    address TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    contract_start TEXT,
    contract_end TEXT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- One row per event in the life of a customer or a unit; every feature appends here
-- (kind names the feature's record type, ref_id its id), so timelines need no joins.
CREATE TABLE timeline (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    customer_id BIGINT,
    equipment_id BIGINT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX timeline_customer ON timeline (org_id, customer_id, at);
CREATE INDEX timeline_equipment ON timeline (org_id, equipment_id, at);
CREATE INDEX timeline_ref ON timeline (kind, ref_id);

-- One searchable document per record: `text` as shown, `tokens` its n-grams.
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    UNIQUE (kind, ref_id)
);
CREATE INDEX search_docs_org ON search_docs (org_id);

CREATE VIRTUAL TABLE search_fts USING fts5 (tokens, content = 'search_docs', content_rowid = 'id');
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, tokens) VALUES (new.id, new.tokens);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
    INSERT INTO search_fts (rowid, tokens) VALUES (new.id, new.tokens);
END;
