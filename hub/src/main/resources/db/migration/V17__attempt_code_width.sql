-- An attempt's code is the file name for a file destination: the outbox key (destination name, up to
-- 100 characters, and message id) and its extension. varchar(32) made a settle fail once that outgrew
-- it ("riverside-inventory-" + an 8-digit id + ".json" is 33), and the whole claimed group with it, on
-- every retry. Widening a varchar is a catalogue change on PostgreSQL (no rewrite).
alter table delivery_attempt alter column code set data type varchar(255);
