-- Encryption at rest (issue 14). The journal's PHI columns hold AES-256-GCM values (see JournalKeys):
-- message.raw, ack, error, usage_json; message_output.resource_json; device_use.lot, serial,
-- patient_value, account; implant_flag.lot, serial, detail. Their data keys live here, wrapped by a
-- key-encryption key (KEK) the database never sees; kek_id is the KEK's check value.
create table journal_key (
    id          integer      not null primary key,   -- random; the data-key id in every value's header
    purpose     varchar(8)   not null,               -- DATA (per node per day) | SEARCH (one per journal)
    singleton   varchar(8),                          -- 'SEARCH' on the search key, so there is only one
    kek_id      varchar(16)  not null,
    wrapped     bytea        not null,
    created_at  timestamp with time zone not null
);
create unique index ux_journal_key_singleton on journal_key (singleton);
create index ix_journal_key_purpose on journal_key (purpose, created_at);

-- room for the sealed form (34 bytes of header and tag, UTF-8, base64) of values bounded to the old widths
alter table message alter column ack set data type varchar(20000);
alter table message alter column error set data type varchar(10000);
alter table device_use alter column lot set data type varchar(600);
alter table device_use alter column serial set data type varchar(600);
alter table device_use alter column patient_value set data type varchar(1000);
alter table device_use alter column account set data type varchar(1000);
alter table implant_flag alter column lot set data type varchar(1000);
alter table implant_flag alter column serial set data type varchar(1000);
alter table implant_flag alter column detail set data type varchar(5000);

-- the device index is searched through keyed hashes of lot and serial (their comparable form), and
-- the implant history compares patients by the V10 patient key: the clear values are encrypted
alter table device_use add column lot_key varchar(64);
alter table device_use add column serial_key varchar(64);
alter table device_use add column patient_key varchar(64);
drop index ix_device_use_lot;
drop index ix_device_use_serial;
create index ix_device_use_lot on device_use (di, lot_key, id);
create index ix_device_use_serial on device_use (di, serial_key, id);
