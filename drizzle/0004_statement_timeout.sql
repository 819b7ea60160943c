-- The Worker gives up on a query after DB_TIMEOUT_MS (5 s by default), but
-- that only aborts its HTTP call: the statement would run on. Postgres
-- stops it a little later instead. Set on the database the migrations run
-- in (its name differs between Neon, CI and PGlite), for every new session;
-- raise it together with DB_TIMEOUT_MS. Needs the database's owner, which
-- the role migrations run as is.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '6s');
END $$;
