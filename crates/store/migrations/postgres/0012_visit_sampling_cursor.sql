-- The return-visit sampling reads completed service orders without a sampling mark, oldest
-- completion first, a batch per transaction. Without an index in that order every batch
-- scanned and sorted all the organization's completed orders again: a backlog of 770,000
-- (the first run over 1,000,000 imported orders) took ~1 s a batch, ~15 minutes. With this
-- index a run walks the completions once, continuing after the last order of the previous
-- batch (`store::satisfaction::visits::orders_unmarked`); the status travels with the entry
-- so only the batch's own orders are read from the table.
CREATE INDEX service_orders_org_completed ON service_orders (org_id, completed_at, id, status) WHERE completed_at IS NOT NULL;
ANALYZE service_orders;
