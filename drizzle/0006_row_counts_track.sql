-- One generic way to give a table its row_counts: row_counts_track creates
-- the table's two statement-level triggers (on the functions of 0002) and
-- counts the rows it already has, under a lock so no write slips between.
-- scripts/lib/migrate.ts calls it after the migrations for every table
-- src/db/schema.ts marks with rowCounted(); for a table that already has
-- the triggers it does nothing, so a new table needs no migration of its own.
CREATE FUNCTION row_counts_track(tbl regclass, scope text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  name text := (SELECT relname FROM pg_class WHERE oid = tbl);
BEGIN
  IF scope NOT IN ('owner', 'all') THEN
    RAISE EXCEPTION 'row_counts_track: scope must be owner or all, not %', scope;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgfoid = 'row_counts_add'::regproc) THEN
    RETURN;
  END IF;
  EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', tbl);
  EXECUTE format(
    'CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add(%L)',
    name || '_count_insert', tbl, scope);
  EXECUTE format(
    'CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_remove(%L)',
    name || '_count_delete', tbl, scope);
  DELETE FROM row_counts WHERE table_name = name;
  IF scope = 'all' THEN
    EXECUTE format(
      'INSERT INTO row_counts (table_name, owner_id, total) SELECT %L, ''00000000-0000-0000-0000-000000000000''::uuid, count(*) FROM %s HAVING count(*) > 0',
      name, tbl);
  ELSE
    EXECUTE format('INSERT INTO row_counts (table_name, owner_id, total) SELECT %L, owner_id, count(*) FROM %s GROUP BY owner_id', name, tbl);
  END IF;
END $$;
