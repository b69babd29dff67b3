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
) WITHOUT ROWID;

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
) WITHOUT ROWID;

-- The same per month (month = the day number of its first day): at 1 M complaints over three
-- years 110 k rows instead of 730 k for part numbers. Intervals read whole months here and
-- only partial first and last months by day; the key leads with the value, so grouping by
-- it reads in key order instead of sorting.
CREATE TABLE complaint_month_groups (
    org_id BIGINT NOT NULL,
    dim TEXT NOT NULL,
    month BIGINT NOT NULL,
    k TEXT NOT NULL,
    class TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, dim, k, class, month)
) WITHOUT ROWID;

-- Units on order lines per organization, product and ship date (orders with a ship date),
-- and per ship date over all products: units shipped in an interval, of given products.
CREATE TABLE order_ship_days (
    org_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    ship_date TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (org_id, product_id, ship_date)
) WITHOUT ROWID;
CREATE TABLE order_ship_totals (
    org_id BIGINT NOT NULL,
    ship_date TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (org_id, ship_date)
) WITHOUT ROWID;

-- ---------- backfill (before the triggers exist) ----------

UPDATE complaints SET received_day = (received_at + 60 * COALESCE((SELECT w.utc_offset_minutes
    FROM work_calendars w WHERE w.org_id = complaints.org_id AND w.is_default ORDER BY w.id LIMIT 1), 480)) / 86400;

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

INSERT INTO complaint_month_groups
SELECT org_id, dim, CAST(strftime('%s', day * 86400, 'unixepoch', 'start of month') AS INTEGER) / 86400 AS m,
    k, class, SUM(n)
FROM complaint_day_groups GROUP BY org_id, dim, m, k, class;

INSERT INTO order_ship_days
SELECT o.org_id, l.product_id, o.ship_date, SUM(l.quantity)
FROM orders o JOIN order_lines l ON l.order_id = o.id
WHERE o.ship_date IS NOT NULL GROUP BY o.org_id, l.product_id, o.ship_date;
INSERT INTO order_ship_totals
SELECT org_id, ship_date, SUM(quantity) FROM order_ship_days GROUP BY org_id, ship_date;

-- ---------- complaints ----------

-- Deltas go through two views whose INSTEAD OF triggers apply them (sign 1 adds a complaint's
-- counts, -1 takes them away): one place per roll-up for inserts, updates and deletes.
CREATE VIEW complaint_totals_delta AS SELECT 0 AS org_id, 0 AS day, 0 AS sign, '' AS class,
    0 AS resolution_secs, 0 AS reopen_count, 0 AS repeat_count, 0 AS ack_met, 0 AS response_met,
    0 AS remedy_met, 0 AS close_met WHERE 0;

CREATE TRIGGER complaint_totals_apply INSTEAD OF INSERT ON complaint_totals_delta
BEGIN
    INSERT INTO complaint_day_totals VALUES (NEW.org_id, NEW.day, NEW.sign,
        CASE WHEN NEW.class = 'quality' THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.class = 'human' THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.class = 'other' THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.resolution_secs IS NOT NULL THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.resolution_secs IS NOT NULL AND NEW.reopen_count > 0 THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.repeat_count > 0 THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.ack_met THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.ack_met IS NOT NULL THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.response_met THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.response_met IS NOT NULL THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.remedy_met THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.remedy_met IS NOT NULL THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.close_met THEN NEW.sign ELSE 0 END,
        CASE WHEN NEW.close_met IS NOT NULL THEN NEW.sign ELSE 0 END)
    ON CONFLICT (org_id, day) DO UPDATE SET n = n + excluded.n,
        quality = quality + excluded.quality, human = human + excluded.human, other = other + excluded.other,
        closed = closed + excluded.closed, closed_reopened = closed_reopened + excluded.closed_reopened,
        repeated = repeated + excluded.repeated,
        ack_met = ack_met + excluded.ack_met, ack_n = ack_n + excluded.ack_n,
        response_met = response_met + excluded.response_met, response_n = response_n + excluded.response_n,
        remedy_met = remedy_met + excluded.remedy_met, remedy_n = remedy_n + excluded.remedy_n,
        close_met = close_met + excluded.close_met, close_n = close_n + excluded.close_n;
END;

CREATE VIEW complaint_groups_delta AS SELECT 0 AS org_id, 0 AS day, 0 AS sign, '' AS class,
    '' AS fault_category, '' AS part_no, 0 AS responsible_department_id WHERE 0;

CREATE TRIGGER complaint_groups_apply INSTEAD OF INSERT ON complaint_groups_delta
BEGIN
    INSERT INTO complaint_day_groups VALUES
        (NEW.org_id, 'cause', NEW.day, COALESCE(NEW.fault_category, ''), NEW.class, NEW.sign),
        (NEW.org_id, 'part', NEW.day, COALESCE(NEW.part_no, ''), '', NEW.sign),
        (NEW.org_id, 'dept', NEW.day, COALESCE(CAST(NEW.responsible_department_id AS TEXT), ''), '', NEW.sign)
    ON CONFLICT (org_id, dim, day, k, class) DO UPDATE SET n = n + excluded.n;
    INSERT INTO complaint_month_groups VALUES
        (NEW.org_id, 'cause', CAST(strftime('%s', NEW.day * 86400, 'unixepoch', 'start of month') AS INTEGER) / 86400,
            COALESCE(NEW.fault_category, ''), NEW.class, NEW.sign),
        (NEW.org_id, 'part', CAST(strftime('%s', NEW.day * 86400, 'unixepoch', 'start of month') AS INTEGER) / 86400,
            COALESCE(NEW.part_no, ''), '', NEW.sign),
        (NEW.org_id, 'dept', CAST(strftime('%s', NEW.day * 86400, 'unixepoch', 'start of month') AS INTEGER) / 86400,
            COALESCE(CAST(NEW.responsible_department_id AS TEXT), ''), '', NEW.sign)
    ON CONFLICT (org_id, dim, month, k, class) DO UPDATE SET n = n + excluded.n;
END;

-- A row inserted without its day gets it from the organization's default calendar (the
-- standard offset, +08:00, without one); that update fires the roll-up triggers below.
CREATE TRIGGER complaints_received_day_fill AFTER INSERT ON complaints
WHEN NEW.received_day IS NULL
BEGIN
    UPDATE complaints SET received_day = (NEW.received_at + 60 * COALESCE((SELECT w.utc_offset_minutes
        FROM work_calendars w WHERE w.org_id = NEW.org_id AND w.is_default ORDER BY w.id LIMIT 1), 480)) / 86400
    WHERE id = NEW.id;
END;

-- A receipt time changed without its day: the day follows.
CREATE TRIGGER complaints_received_day_follow AFTER UPDATE OF received_at ON complaints
WHEN NEW.received_at IS NOT OLD.received_at AND NEW.received_day IS OLD.received_day
BEGIN
    UPDATE complaints SET received_day = (NEW.received_at + 60 * COALESCE((SELECT w.utc_offset_minutes
        FROM work_calendars w WHERE w.org_id = NEW.org_id AND w.is_default ORDER BY w.id LIMIT 1), 480)) / 86400
    WHERE id = NEW.id;
END;

CREATE TRIGGER complaints_rollup_insert AFTER INSERT ON complaints
WHEN NEW.received_day IS NOT NULL
BEGIN
    INSERT INTO complaint_totals_delta VALUES (NEW.org_id, NEW.received_day, 1, NEW.class,
        NEW.resolution_secs, NEW.reopen_count, NEW.repeat_count, NEW.ack_met, NEW.response_met,
        NEW.remedy_met, NEW.close_met);
    INSERT INTO complaint_groups_delta VALUES (NEW.org_id, NEW.received_day, 1, NEW.class,
        NEW.fault_category, NEW.part_no, NEW.responsible_department_id);
END;

CREATE TRIGGER complaints_rollup_delete AFTER DELETE ON complaints
WHEN OLD.received_day IS NOT NULL
BEGIN
    INSERT INTO complaint_totals_delta VALUES (OLD.org_id, OLD.received_day, -1, OLD.class,
        OLD.resolution_secs, OLD.reopen_count, OLD.repeat_count, OLD.ack_met, OLD.response_met,
        OLD.remedy_met, OLD.close_met);
    INSERT INTO complaint_groups_delta VALUES (OLD.org_id, OLD.received_day, -1, OLD.class,
        OLD.fault_category, OLD.part_no, OLD.responsible_department_id);
END;

-- Most updates move the status, version and clock only: the WHEN keeps them to a few
-- comparisons, and counts only what the totals count (closed or not, reopened or not).
CREATE TRIGGER complaints_rollup_update_totals AFTER UPDATE OF org_id, received_day, class, resolution_secs,
    reopen_count, repeat_count, ack_met, response_met, remedy_met, close_met ON complaints
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.received_day IS NOT OLD.received_day OR NEW.class IS NOT OLD.class
    OR (NEW.resolution_secs IS NULL) IS NOT (OLD.resolution_secs IS NULL)
    OR (NEW.reopen_count > 0) IS NOT (OLD.reopen_count > 0) OR (NEW.repeat_count > 0) IS NOT (OLD.repeat_count > 0)
    OR NEW.ack_met IS NOT OLD.ack_met OR NEW.response_met IS NOT OLD.response_met
    OR NEW.remedy_met IS NOT OLD.remedy_met OR NEW.close_met IS NOT OLD.close_met
BEGIN
    INSERT INTO complaint_totals_delta SELECT OLD.org_id, OLD.received_day, -1, OLD.class,
        OLD.resolution_secs, OLD.reopen_count, OLD.repeat_count, OLD.ack_met, OLD.response_met,
        OLD.remedy_met, OLD.close_met WHERE OLD.received_day IS NOT NULL;
    INSERT INTO complaint_totals_delta SELECT NEW.org_id, NEW.received_day, 1, NEW.class,
        NEW.resolution_secs, NEW.reopen_count, NEW.repeat_count, NEW.ack_met, NEW.response_met,
        NEW.remedy_met, NEW.close_met WHERE NEW.received_day IS NOT NULL;
END;

CREATE TRIGGER complaints_rollup_update_groups AFTER UPDATE OF org_id, received_day, class, fault_category,
    part_no, responsible_department_id ON complaints
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.received_day IS NOT OLD.received_day OR NEW.class IS NOT OLD.class
    OR NEW.fault_category IS NOT OLD.fault_category OR NEW.part_no IS NOT OLD.part_no
    OR NEW.responsible_department_id IS NOT OLD.responsible_department_id
BEGIN
    INSERT INTO complaint_groups_delta SELECT OLD.org_id, OLD.received_day, -1, OLD.class,
        OLD.fault_category, OLD.part_no, OLD.responsible_department_id WHERE OLD.received_day IS NOT NULL;
    INSERT INTO complaint_groups_delta SELECT NEW.org_id, NEW.received_day, 1, NEW.class,
        NEW.fault_category, NEW.part_no, NEW.responsible_department_id WHERE NEW.received_day IS NOT NULL;
END;

-- ---------- orders ----------

-- One line's units on its order's ship date (sign 1 or -1); nothing while the order has none.
CREATE VIEW order_ship_delta AS SELECT 0 AS org_id, '' AS ship_date, 0 AS product_id, 0 AS quantity WHERE 0;

CREATE TRIGGER order_ship_apply INSTEAD OF INSERT ON order_ship_delta
WHEN NEW.ship_date IS NOT NULL AND NEW.quantity <> 0
BEGIN
    INSERT INTO order_ship_days VALUES (NEW.org_id, NEW.product_id, NEW.ship_date, NEW.quantity)
    ON CONFLICT (org_id, product_id, ship_date) DO UPDATE SET quantity = quantity + excluded.quantity;
    INSERT INTO order_ship_totals VALUES (NEW.org_id, NEW.ship_date, NEW.quantity)
    ON CONFLICT (org_id, ship_date) DO UPDATE SET quantity = quantity + excluded.quantity;
END;

CREATE TRIGGER order_lines_ship_insert AFTER INSERT ON order_lines
BEGIN
    INSERT INTO order_ship_delta SELECT o.org_id, o.ship_date, NEW.product_id, NEW.quantity
    FROM orders o WHERE o.id = NEW.order_id;
END;

CREATE TRIGGER order_lines_ship_delete AFTER DELETE ON order_lines
BEGIN
    INSERT INTO order_ship_delta SELECT o.org_id, o.ship_date, OLD.product_id, -OLD.quantity
    FROM orders o WHERE o.id = OLD.order_id;
END;

CREATE TRIGGER order_lines_ship_update AFTER UPDATE OF order_id, product_id, quantity ON order_lines
WHEN NEW.order_id IS NOT OLD.order_id OR NEW.product_id IS NOT OLD.product_id OR NEW.quantity IS NOT OLD.quantity
BEGIN
    INSERT INTO order_ship_delta SELECT o.org_id, o.ship_date, OLD.product_id, -OLD.quantity
    FROM orders o WHERE o.id = OLD.order_id;
    INSERT INTO order_ship_delta SELECT o.org_id, o.ship_date, NEW.product_id, NEW.quantity
    FROM orders o WHERE o.id = NEW.order_id;
END;

-- An order's ship date set, moved or cleared: its lines move with it.
CREATE TRIGGER orders_ship_update AFTER UPDATE OF org_id, ship_date ON orders
WHEN NEW.ship_date IS NOT OLD.ship_date OR NEW.org_id IS NOT OLD.org_id
BEGIN
    INSERT INTO order_ship_delta SELECT OLD.org_id, OLD.ship_date, l.product_id, -SUM(l.quantity)
    FROM order_lines l WHERE l.order_id = OLD.id GROUP BY l.product_id;
    INSERT INTO order_ship_delta SELECT NEW.org_id, NEW.ship_date, l.product_id, SUM(l.quantity)
    FROM order_lines l WHERE l.order_id = NEW.id GROUP BY l.product_id;
END;

-- Lines are deleted before their order (foreign key); any left go with it.
CREATE TRIGGER orders_ship_delete AFTER DELETE ON orders
BEGIN
    INSERT INTO order_ship_delta SELECT OLD.org_id, OLD.ship_date, l.product_id, -SUM(l.quantity)
    FROM order_lines l WHERE l.order_id = OLD.id GROUP BY l.product_id;
END;
