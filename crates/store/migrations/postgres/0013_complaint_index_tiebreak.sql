-- The two covering indexes of the figures ordered complaints received in the same second by
-- class, resolution, fault category, part number and so on: under the create load (thousands
-- a second) each second's registrations landed on some forty leaves at random instead of
-- the right edge, and a group commit rewrote twenty-odd pages of these two indexes instead
-- of two or three. With the id after the receipt time, new entries always go last; readers
-- are unchanged (they range over receipt times and read the other columns from the entry),
-- and the newest-first list (received_at DESC, id DESC) now reads the index in its order.
DROP INDEX complaints_org_figures;
CREATE INDEX complaints_org_figures ON complaints (org_id, received_at, id, class, resolution_secs, reopen_count,
    repeat_count, ack_met, response_met, remedy_met, close_met, fault_category, part_no, responsible_department_id);
DROP INDEX complaints_org_dept_received;
CREATE INDEX complaints_org_dept_received ON complaints (org_id, responsible_department_id, received_at, id, class,
    fault_category, part_no, resolution_secs, reopen_count, repeat_count, ack_met, response_met, remedy_met, close_met);
-- No query reads complaints by their `month` column (the figures count months by ranges of
-- receipt times, or from the roll-ups), yet every registration paid for its index.
DROP INDEX complaints_org_month;
ANALYZE complaints;
