-- Retention (issue 14): a message's content (raw, canonical usage, FHIR outputs, rejection text) is
-- replaced by a tombstone once the interface's retention period has passed and nothing is owed on it.
-- The row itself stays (ids, interface, sender, control id, status, times, content hash, search keys),
-- and so do its outbox rows, attempts, device index rows, flags and audit events.
alter table message add column purged_at timestamp with time zone;
alter table message add column purge_reason varchar(200);   -- which setting, and how long it kept the content
-- the purge walks unpurged messages in id order (keyset), whatever their age
create index ix_message_unpurged on message (purged_at, id);
