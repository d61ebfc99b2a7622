-- Pausing a destination (console, admin API): delivery workers on every node read this before they
-- claim, so a pause holds the destination's rows PENDING cluster-wide until it is resumed.
create table destination_state (
    destination  varchar(100)  not null primary key,
    paused       boolean       not null,
    changed_by   varchar(300)  not null,
    changed_at   timestamp with time zone not null
);

-- the console's delivered-per-minute rate reads the recent deliveries of one destination
create index ix_outbox_delivered on outbox (destination, delivered_at);
