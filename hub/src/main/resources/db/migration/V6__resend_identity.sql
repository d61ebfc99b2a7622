-- Resends are recognised per interface and by content, and an ERROR can be fixed.
--  * dedup_key is now interface|sender|control id, and is held only by a message's live attempt: a
--    later attempt (a resend of an ERROR, a reprocess) takes the key over and the earlier row's key is
--    cleared, so the plain unique index keeps working on H2 and PostgreSQL alike.
--  * content_hash: SHA-256 of the message as sent, minus what a resend may change (README).
--  * previous_id: the attempt this row supersedes (a resend of an ERROR, or a reprocess).
alter table message alter column dedup_key set data type varchar(500);
update message set dedup_key = interface_id || '|' || dedup_key where dedup_key is not null;
alter table message add column content_hash varchar(64);
alter table message add column previous_id bigint references message (id);
create index ix_message_previous on message (previous_id);
