-- PruneMessages deletes the oldest rows first and Messages selects by
-- received_at: index it.
CREATE INDEX wxkit_message_log_received_at ON wxkit_message_log (received_at);
