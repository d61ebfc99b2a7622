-- Searching by patient without keeping the patient in clear: keyed hashes (HMAC) of the patient
-- identifier (PID-3) and the account (PID-18), computed with the journal's search key. The audit
-- trail names the message and the patient (by the same keyed hash) it touched, so an access report
-- can answer "who looked at this patient" without the audit holding an MRN.
alter table message add column patient_key varchar(64);
alter table message add column account_key varchar(64);
create index ix_message_patient on message (patient_key, id);
create index ix_message_account on message (account_key, id);

alter table audit_event add column message_id bigint;
alter table audit_event add column patient_key varchar(64);
alter table audit_event add column source varchar(100);             -- the caller's address, for "from where"
create index ix_audit_patient on audit_event (patient_key, at);
create index ix_audit_message on audit_event (message_id);
