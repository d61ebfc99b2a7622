-- A replay gives a dead row a fresh attempt budget and a fresh age: maxAge counts from here.
alter table outbox add column replayed_at timestamp with time zone;
