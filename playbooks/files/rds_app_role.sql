-- The app's own PostgreSQL role, set up by the RDS master (playbooks/tasks/app/database_role.yml
-- runs it with psql on the app host; the database is private). It runs again only when the
-- role cannot log in or does not own the app's schema, and is safe to run again.
-- From the environment: MECOVE_DB_APP_ROLE (the role's name) and MECOVE_DB_APP_VERIFIER (its
-- password as a SCRAM-SHA-256 verifier: the plain password never reaches the server).
\set ON_ERROR_STOP on
\getenv app_role MECOVE_DB_APP_ROLE
\getenv app_verifier MECOVE_DB_APP_VERIFIER

SELECT format('CREATE ROLE %I', :'app_role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'app_role', :'app_verifier') \gexec

-- Since PostgreSQL 16 the creator of a role holds only ADMIN on it; handing objects to the role
-- takes membership.
SELECT format('GRANT %I TO CURRENT_USER', :'app_role') \gexec
SELECT format('ALTER SCHEMA public OWNER TO %I', :'app_role') \gexec

-- What the master owns in the schema: stacks deployed before the app had its own role ran their
-- migrations as the master. Sequences of a column and an extension's objects follow their owner.
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                             WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass, :'app_role')
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                            AND d.deptype IN ('a', 'i', 'e')) \gexec
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, :'app_role')
  FROM pg_type t
 WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r')
   AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') \gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'app_role')
  FROM pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
   AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') \gexec
