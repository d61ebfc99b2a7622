-- Live reload: each audited reload (audit_event action CONFIG_RELOAD, target 'reload <id>') lists the
-- files of the set it read with their SHA-256, so an auditor can tell exactly which configuration ran.
create table audit_config_file (
    reload_id  varchar(36)  not null,
    file       varchar(300) not null,
    sha256     char(64)     not null,
    primary key (reload_id, file)
);
