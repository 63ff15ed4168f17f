-- Index the message log by received_at: PruneMessages deletes the oldest
-- rows first, and Messages lists the newest, of every app or of one.
CREATE INDEX wxkit_message_log_received_at ON wxkit_message_log (received_at);
CREATE INDEX wxkit_message_log_app_received_at ON wxkit_message_log (app_id, received_at);
