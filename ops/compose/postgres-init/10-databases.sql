-- First start of the postgres container only (docker-entrypoint-initdb.d): the hub's database
-- (supplyhub) is POSTGRES_DB; Keycloak and the HAPI FHIR server get their own.
CREATE DATABASE keycloak;
CREATE DATABASE hapi;
