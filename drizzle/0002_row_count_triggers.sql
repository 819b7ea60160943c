-- Keeps row_counts true for patients and mappings (per owner) and doctors
-- (all under the nil UUID), whatever changes the rows: the API's own
-- statements, ON DELETE CASCADE from a patient, or a manual fix. Statement-
-- level triggers with transition tables: one counter update per statement
-- and owner, not per row.
CREATE FUNCTION row_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_ARGV[0] = 'all' THEN
    INSERT INTO row_counts (table_name, owner_id, total)
    SELECT TG_TABLE_NAME, '00000000-0000-0000-0000-000000000000'::uuid, count(*) FROM changed_rows HAVING count(*) > 0
    ON CONFLICT (table_name, owner_id) DO UPDATE SET total = row_counts.total + EXCLUDED.total;
  ELSE
    INSERT INTO row_counts (table_name, owner_id, total)
    SELECT TG_TABLE_NAME, owner_id, count(*) FROM changed_rows GROUP BY owner_id
    ON CONFLICT (table_name, owner_id) DO UPDATE SET total = row_counts.total + EXCLUDED.total;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION row_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_ARGV[0] = 'all' THEN
    UPDATE row_counts SET total = total - (SELECT count(*) FROM changed_rows)
    WHERE table_name = TG_TABLE_NAME AND owner_id = '00000000-0000-0000-0000-000000000000'::uuid;
  ELSE
    UPDATE row_counts c SET total = c.total - d.n
    FROM (SELECT owner_id, count(*) AS n FROM changed_rows GROUP BY owner_id) d
    WHERE c.table_name = TG_TABLE_NAME AND c.owner_id = d.owner_id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER patients_count_insert AFTER INSERT ON patients REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add('owner');
--> statement-breakpoint
CREATE TRIGGER patients_count_delete AFTER DELETE ON patients REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_remove('owner');
--> statement-breakpoint
CREATE TRIGGER mappings_count_insert AFTER INSERT ON patient_doctor_mappings REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add('owner');
--> statement-breakpoint
CREATE TRIGGER mappings_count_delete AFTER DELETE ON patient_doctor_mappings REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_remove('owner');
--> statement-breakpoint
CREATE TRIGGER doctors_count_insert AFTER INSERT ON doctors REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add('all');
--> statement-breakpoint
CREATE TRIGGER doctors_count_delete AFTER DELETE ON doctors REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_remove('all');
--> statement-breakpoint
-- Rows that existed before the triggers.
INSERT INTO row_counts (table_name, owner_id, total)
SELECT 'patients', owner_id, count(*) FROM patients GROUP BY owner_id
UNION ALL SELECT 'patient_doctor_mappings', owner_id, count(*) FROM patient_doctor_mappings GROUP BY owner_id
UNION ALL SELECT 'doctors', '00000000-0000-0000-0000-000000000000'::uuid, count(*) FROM doctors HAVING count(*) > 0;
