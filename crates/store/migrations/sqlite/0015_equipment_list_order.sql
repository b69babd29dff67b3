-- The units list sorts by status, then serial (`store::archives::equipment::list`). Without an
-- index in that order every page read and sorted all the organization's units: ~2 s a page at
-- 300,000 units, filtered by a serial fragment or not. Walking this index a page reads its own
-- units and stops; the serial travels with the entry, so a serial filter is checked on it.
CREATE INDEX equipment_org_status_serial ON equipment (org_id, status, serial);
ANALYZE equipment_org_status_serial;
