-- A complaint's receipt is on its customer's and its unit's timelines, but no longer as a row
-- of `timeline`: `store::timeline` reads it from the complaint itself (number, description,
-- receipt time). Each registration wrote a timeline row whose customer and unit index entries
-- each landed on a random leaf, about an eighth of the single SQLite writer's pages per
-- registration (bench/RESULTS.md, session 9). The customer side reads complaints_org_customer;
-- the unit side needs the index below. Status changes stay timeline rows.
CREATE INDEX complaints_org_equipment ON complaints (org_id, equipment_id, received_at) WHERE equipment_id IS NOT NULL;
DELETE FROM timeline WHERE kind = 'complaint';
ANALYZE complaints_org_equipment;
