-- Up Migration
-- Signals are pruned past their retention (SHIPSHAPE_SIGNAL_RETENTION_DAYS) by
-- the telemetry sweep's bookkeeping; this index keeps that a range scan.
CREATE INDEX signals_received ON signals (received_at);

-- Down Migration
DROP INDEX signals_received;
