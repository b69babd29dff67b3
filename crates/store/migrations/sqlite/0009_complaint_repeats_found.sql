-- The complaints a complaint repeats, and those repeating it, are found when they are shown
-- (store::complaints::steps::related), from the indexes the registration's recurrence check
-- reads, instead of being stored as links. Each registration linked up to 50 earlier
-- complaints, and the link index on the earlier complaint put those 50 entries all over the
-- index: 70 % of the pages a group of registrations wrote (the benchmark's create workload).
-- The links were derived data; the repeat count and the CAPA flag stay on the complaint.
DROP TABLE complaint_repeats;
-- Later complaints without an archive customer that repeat one, by name (the reverse of the
-- check for a complaint registered by name): covering, so the complaint page reads the index
-- alone; only complaints without a customer id are in it.
CREATE INDEX complaints_org_name ON complaints (org_id, customer_name, received_at, fault_category, status, part_no, serial, batch_no, number)
    WHERE customer_id IS NULL;
ANALYZE complaints_org_name;
