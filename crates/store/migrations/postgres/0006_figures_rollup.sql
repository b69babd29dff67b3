-- Complaint figures from roll-ups kept in the same transaction as every write (issue 7: the
-- figures page at 1 M complaints). Triggers keep them, so every writer (services, SLA jobs,
-- CAPA, the volume generator, raw test rows) keeps them right without code.
-- store::complaints::figures reads them for the unfiltered page and checks them against the
-- raw aggregates in tests.

-- The local day of receipt (days since 1970-01-01 on the organization's calendar offset),
-- fixed at insert like `month`: the roll-ups are keyed by it, so a later change of the
-- calendar's offset cannot make a delete or update subtract from another day than it added
-- to. The application fills it; a trigger below fills it when a writer leaves it NULL.
ALTER TABLE complaints ADD COLUMN received_day BIGINT;

-- The counts of store::complaints::figures::totals per organization and day of receipt.
CREATE TABLE complaint_day_totals (
    org_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    n BIGINT NOT NULL,
    quality BIGINT NOT NULL,
    human BIGINT NOT NULL,
    other BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    closed_reopened BIGINT NOT NULL,
    repeated BIGINT NOT NULL,
    ack_met BIGINT NOT NULL,
    ack_n BIGINT NOT NULL,
    response_met BIGINT NOT NULL,
    response_n BIGINT NOT NULL,
    remedy_met BIGINT NOT NULL,
    remedy_n BIGINT NOT NULL,
    close_met BIGINT NOT NULL,
    close_n BIGINT NOT NULL,
    PRIMARY KEY (org_id, day)
);

-- Complaints per organization, day of receipt, dimension and value: dim 'cause' (k = fault
-- category, class = class), 'part' (k = part number) and 'dept' (k = responsible department
-- id as text); '' stands for NULL in k (registration stores blanks as NULL) and in class.
-- Rows whose n fell to 0 stay: readers skip them.
CREATE TABLE complaint_day_groups (
    org_id BIGINT NOT NULL,
    dim TEXT NOT NULL,
    day BIGINT NOT NULL,
    k TEXT NOT NULL,
    class TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, dim, day, k, class)
);

-- The same per month (month = the day number of its first day): a year holds about 36 times
-- fewer rows than by day (3,000 part numbers: 36 k instead of 700 k), so long intervals read
-- whole months here and only their partial first and last months by day.
CREATE TABLE complaint_month_groups (
    org_id BIGINT NOT NULL,
    dim TEXT NOT NULL,
    month BIGINT NOT NULL,
    k TEXT NOT NULL,
    class TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, dim, k, class, month)
);

-- Units on order lines per organization, product and ship date (orders with a ship date),
-- and per ship date over all products: units shipped in an interval, of given products.
CREATE TABLE order_ship_days (
    org_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    ship_date TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (org_id, product_id, ship_date)
);
CREATE TABLE order_ship_totals (
    org_id BIGINT NOT NULL,
    ship_date TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (org_id, ship_date)
);

-- ---------- backfill (before the triggers exist) ----------

UPDATE complaints c SET received_day = (c.received_at + 60 * COALESCE((SELECT w.utc_offset_minutes
    FROM work_calendars w WHERE w.org_id = c.org_id AND w.is_default ORDER BY w.id LIMIT 1), 480)) / 86400;

INSERT INTO complaint_day_totals
SELECT org_id, received_day, COUNT(*),
    COUNT(CASE WHEN class = 'quality' THEN 1 END),
    COUNT(CASE WHEN class = 'human' THEN 1 END),
    COUNT(CASE WHEN class = 'other' THEN 1 END),
    COUNT(resolution_secs),
    COUNT(CASE WHEN resolution_secs IS NOT NULL AND reopen_count > 0 THEN 1 END),
    COUNT(CASE WHEN repeat_count > 0 THEN 1 END),
    COUNT(CASE WHEN ack_met THEN 1 END), COUNT(ack_met),
    COUNT(CASE WHEN response_met THEN 1 END), COUNT(response_met),
    COUNT(CASE WHEN remedy_met THEN 1 END), COUNT(remedy_met),
    COUNT(CASE WHEN close_met THEN 1 END), COUNT(close_met)
FROM complaints GROUP BY org_id, received_day;

INSERT INTO complaint_day_groups
SELECT org_id, 'cause', received_day, COALESCE(fault_category, ''), class, COUNT(*)
FROM complaints GROUP BY org_id, received_day, fault_category, class;
INSERT INTO complaint_day_groups
SELECT org_id, 'part', received_day, COALESCE(part_no, ''), '', COUNT(*)
FROM complaints GROUP BY org_id, received_day, part_no;
INSERT INTO complaint_day_groups
SELECT org_id, 'dept', received_day, COALESCE(CAST(responsible_department_id AS TEXT), ''), '', COUNT(*)
FROM complaints GROUP BY org_id, received_day, responsible_department_id;

-- The first day of the month of day number d, as a day number.
CREATE FUNCTION rollup_month(d BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS
$$ SELECT CAST(CAST(date_trunc('month', CAST(DATE '1970-01-01' + CAST(d AS INTEGER) AS TIMESTAMP)) AS DATE)
    - DATE '1970-01-01' AS BIGINT) $$;

INSERT INTO complaint_month_groups
SELECT org_id, dim, rollup_month(day), k, class, SUM(n)
FROM complaint_day_groups GROUP BY org_id, dim, rollup_month(day), k, class;

INSERT INTO order_ship_days
SELECT o.org_id, l.product_id, o.ship_date, SUM(l.quantity)
FROM orders o JOIN order_lines l ON l.order_id = o.id
WHERE o.ship_date IS NOT NULL GROUP BY o.org_id, l.product_id, o.ship_date;
INSERT INTO order_ship_totals
SELECT org_id, ship_date, SUM(quantity) FROM order_ship_days GROUP BY org_id, ship_date;

-- ---------- complaints ----------

-- A complaint's counts added to (s = 1) or taken from (s = -1) the roll-ups: one place per
-- roll-up for inserts, updates and deletes. Nothing without a day.
CREATE FUNCTION complaint_totals_apply(r complaints, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF r.received_day IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO complaint_day_totals AS t VALUES (r.org_id, r.received_day, s,
        CASE WHEN r.class = 'quality' THEN s ELSE 0 END,
        CASE WHEN r.class = 'human' THEN s ELSE 0 END,
        CASE WHEN r.class = 'other' THEN s ELSE 0 END,
        CASE WHEN r.resolution_secs IS NOT NULL THEN s ELSE 0 END,
        CASE WHEN r.resolution_secs IS NOT NULL AND r.reopen_count > 0 THEN s ELSE 0 END,
        CASE WHEN r.repeat_count > 0 THEN s ELSE 0 END,
        CASE WHEN r.ack_met THEN s ELSE 0 END,
        CASE WHEN r.ack_met IS NOT NULL THEN s ELSE 0 END,
        CASE WHEN r.response_met THEN s ELSE 0 END,
        CASE WHEN r.response_met IS NOT NULL THEN s ELSE 0 END,
        CASE WHEN r.remedy_met THEN s ELSE 0 END,
        CASE WHEN r.remedy_met IS NOT NULL THEN s ELSE 0 END,
        CASE WHEN r.close_met THEN s ELSE 0 END,
        CASE WHEN r.close_met IS NOT NULL THEN s ELSE 0 END)
    ON CONFLICT (org_id, day) DO UPDATE SET n = t.n + excluded.n,
        quality = t.quality + excluded.quality, human = t.human + excluded.human,
        other = t.other + excluded.other, closed = t.closed + excluded.closed,
        closed_reopened = t.closed_reopened + excluded.closed_reopened,
        repeated = t.repeated + excluded.repeated,
        ack_met = t.ack_met + excluded.ack_met, ack_n = t.ack_n + excluded.ack_n,
        response_met = t.response_met + excluded.response_met, response_n = t.response_n + excluded.response_n,
        remedy_met = t.remedy_met + excluded.remedy_met, remedy_n = t.remedy_n + excluded.remedy_n,
        close_met = t.close_met + excluded.close_met, close_n = t.close_n + excluded.close_n;
END $$;

CREATE FUNCTION complaint_groups_apply(r complaints, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m BIGINT;
BEGIN
    IF r.received_day IS NULL THEN
        RETURN;
    END IF;
    m := rollup_month(r.received_day);
    INSERT INTO complaint_day_groups AS t VALUES
        (r.org_id, 'cause', r.received_day, COALESCE(r.fault_category, ''), r.class, s),
        (r.org_id, 'part', r.received_day, COALESCE(r.part_no, ''), '', s),
        (r.org_id, 'dept', r.received_day, COALESCE(CAST(r.responsible_department_id AS TEXT), ''), '', s)
    ON CONFLICT (org_id, dim, day, k, class) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO complaint_month_groups AS t VALUES
        (r.org_id, 'cause', m, COALESCE(r.fault_category, ''), r.class, s),
        (r.org_id, 'part', m, COALESCE(r.part_no, ''), '', s),
        (r.org_id, 'dept', m, COALESCE(CAST(r.responsible_department_id AS TEXT), ''), '', s)
    ON CONFLICT (org_id, dim, k, class, month) DO UPDATE SET n = t.n + excluded.n;
END $$;

-- A row inserted without its day gets it from the organization's default calendar (the
-- standard offset, +08:00, without one); a receipt time changed without its day moves it.
CREATE FUNCTION complaints_received_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.received_day := (NEW.received_at + 60 * COALESCE((SELECT w.utc_offset_minutes
        FROM work_calendars w WHERE w.org_id = NEW.org_id AND w.is_default ORDER BY w.id LIMIT 1), 480)) / 86400;
    RETURN NEW;
END $$;

CREATE TRIGGER complaints_received_day_fill BEFORE INSERT ON complaints
FOR EACH ROW WHEN (NEW.received_day IS NULL) EXECUTE FUNCTION complaints_received_day();

CREATE TRIGGER complaints_received_day_follow BEFORE UPDATE OF received_at ON complaints
FOR EACH ROW WHEN (NEW.received_at IS DISTINCT FROM OLD.received_at
    AND NEW.received_day IS NOT DISTINCT FROM OLD.received_day)
EXECUTE FUNCTION complaints_received_day();

CREATE FUNCTION complaints_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM complaint_totals_apply(NEW, 1);
    PERFORM complaint_groups_apply(NEW, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION complaints_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM complaint_totals_apply(OLD, -1);
    PERFORM complaint_groups_apply(OLD, -1);
    RETURN NULL;
END $$;

CREATE FUNCTION complaints_rollup_update_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM complaint_totals_apply(OLD, -1);
    PERFORM complaint_totals_apply(NEW, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION complaints_rollup_update_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM complaint_groups_apply(OLD, -1);
    PERFORM complaint_groups_apply(NEW, 1);
    RETURN NULL;
END $$;

CREATE TRIGGER complaints_rollup_insert AFTER INSERT ON complaints
FOR EACH ROW EXECUTE FUNCTION complaints_rollup_insert();

CREATE TRIGGER complaints_rollup_delete AFTER DELETE ON complaints
FOR EACH ROW EXECUTE FUNCTION complaints_rollup_delete();

-- Most updates move the status, version and clock only: the WHEN keeps them to a few
-- comparisons, and counts only what the totals count (closed or not, reopened or not).
-- received_at is listed because a BEFORE trigger may change the day without naming it.
CREATE TRIGGER complaints_rollup_update_totals AFTER UPDATE OF org_id, received_at, received_day, class,
    resolution_secs, reopen_count, repeat_count, ack_met, response_met, remedy_met, close_met ON complaints
FOR EACH ROW WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.received_day IS DISTINCT FROM OLD.received_day
    OR NEW.class IS DISTINCT FROM OLD.class
    OR (NEW.resolution_secs IS NULL) IS DISTINCT FROM (OLD.resolution_secs IS NULL)
    OR (NEW.reopen_count > 0) IS DISTINCT FROM (OLD.reopen_count > 0)
    OR (NEW.repeat_count > 0) IS DISTINCT FROM (OLD.repeat_count > 0)
    OR NEW.ack_met IS DISTINCT FROM OLD.ack_met OR NEW.response_met IS DISTINCT FROM OLD.response_met
    OR NEW.remedy_met IS DISTINCT FROM OLD.remedy_met OR NEW.close_met IS DISTINCT FROM OLD.close_met)
EXECUTE FUNCTION complaints_rollup_update_totals();

CREATE TRIGGER complaints_rollup_update_groups AFTER UPDATE OF org_id, received_at, received_day, class,
    fault_category, part_no, responsible_department_id ON complaints
FOR EACH ROW WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.received_day IS DISTINCT FROM OLD.received_day
    OR NEW.class IS DISTINCT FROM OLD.class OR NEW.fault_category IS DISTINCT FROM OLD.fault_category
    OR NEW.part_no IS DISTINCT FROM OLD.part_no
    OR NEW.responsible_department_id IS DISTINCT FROM OLD.responsible_department_id)
EXECUTE FUNCTION complaints_rollup_update_groups();

-- ---------- orders ----------

-- Units (q, negative to take away) of product p on ship date d; nothing without a date.
CREATE FUNCTION order_ship_apply(o BIGINT, d TEXT, p BIGINT, q BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF d IS NULL OR q = 0 THEN
        RETURN;
    END IF;
    INSERT INTO order_ship_days AS t VALUES (o, p, d, q)
    ON CONFLICT (org_id, product_id, ship_date) DO UPDATE SET quantity = t.quantity + excluded.quantity;
    INSERT INTO order_ship_totals AS t VALUES (o, d, q)
    ON CONFLICT (org_id, ship_date) DO UPDATE SET quantity = t.quantity + excluded.quantity;
END $$;

CREATE FUNCTION order_lines_ship() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM order_ship_apply(o.org_id, o.ship_date, OLD.product_id, -OLD.quantity)
        FROM orders o WHERE o.id = OLD.order_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM order_ship_apply(o.org_id, o.ship_date, NEW.product_id, NEW.quantity)
        FROM orders o WHERE o.id = NEW.order_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER order_lines_ship AFTER INSERT OR DELETE ON order_lines
FOR EACH ROW EXECUTE FUNCTION order_lines_ship();

CREATE TRIGGER order_lines_ship_update AFTER UPDATE OF order_id, product_id, quantity ON order_lines
FOR EACH ROW WHEN (NEW.order_id IS DISTINCT FROM OLD.order_id OR NEW.product_id IS DISTINCT FROM OLD.product_id
    OR NEW.quantity IS DISTINCT FROM OLD.quantity)
EXECUTE FUNCTION order_lines_ship();

-- An order's ship date set, moved or cleared: its lines move with it. Lines are deleted
-- before their order (foreign key); any left go with it.
CREATE FUNCTION orders_ship() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_ship_apply(OLD.org_id, OLD.ship_date, l.product_id, CAST(-SUM(l.quantity) AS BIGINT))
    FROM order_lines l WHERE l.order_id = OLD.id GROUP BY l.product_id;
    IF TG_OP = 'UPDATE' THEN
        PERFORM order_ship_apply(NEW.org_id, NEW.ship_date, l.product_id, CAST(SUM(l.quantity) AS BIGINT))
        FROM order_lines l WHERE l.order_id = NEW.id GROUP BY l.product_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_ship_update AFTER UPDATE OF org_id, ship_date ON orders
FOR EACH ROW WHEN (NEW.ship_date IS DISTINCT FROM OLD.ship_date OR NEW.org_id IS DISTINCT FROM OLD.org_id)
EXECUTE FUNCTION orders_ship();

CREATE TRIGGER orders_ship_delete AFTER DELETE ON orders
FOR EACH ROW EXECUTE FUNCTION orders_ship();
