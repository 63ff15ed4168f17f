-- The message log holds accepted pushes only (store.MessageLog). The claim
-- that the MessageLog of earlier releases kept in each row (state: 1 while
-- the first delivery was being processed, 2 once recorded; lease_until: the
-- lease of a pending row) is no longer read or written. A pending row was
-- never a completed message, and was never listed: delete those, so that
-- the log keeps exactly the rows it listed before, then drop both columns
-- (no index uses them).
DELETE FROM wxkit_message_log WHERE state <> 2;
ALTER TABLE wxkit_message_log DROP COLUMN lease_until;
ALTER TABLE wxkit_message_log DROP COLUMN state;
