-- A claim looks for account heads among a destination's oldest pending rows first: this index hands
-- them over in id order, so that claim costs about its window, not the whole backlog.
create index ix_outbox_pending on outbox (destination, status, id);
