/**
 * Every table of the service. drizzle-kit generates drizzle/ from this file
 * (`npm run db:generate`); the constraints here are what the routes rely on
 * for conflicts and ownership, so a race can never slip past a prior read.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  date,
  foreignKey,
  index,
  integer,
  type PgTable,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const GENDERS = ["male", "female", "other", "unknown"] as const;
export const AUDIT_ACTIONS = ["create", "read", "update", "delete", "list", "revoke", "sync"] as const;
export const AUDIT_RESOURCE_TYPES = ["patient", "mapping", "user"] as const;
/** `replayed`: a retry answered from its Idempotency-Key; `key_mismatch`: the key was used before with another request (422). */
export const AUDIT_OUTCOMES = ["success", "not_found", "conflict", "precondition_failed", "replayed", "key_mismatch"] as const;
/** What an Idempotency-Key can stand for (docs/BEHAVIOUR.md). */
export const IDEMPOTENT_RESOURCE_TYPES = ["patient", "doctor", "mapping"] as const;

/**
 * Constraint names the code reacts to (a race that slipped past a
 * statement's own checks surfaces as one of these): named here, used both in
 * the tables below and in the routes, so they cannot drift apart.
 */
export const CONSTRAINTS = {
  usersEmail: "users_email_key",
  doctorsLicenseNumber: "doctors_license_number_key",
  mappingsPatient: "mappings_patient_fk",
  mappingsDoctor: "mappings_doctor_fk",
  idempotencyKeys: "idempotency_keys_pkey",
} as const;

/**
 * How row_counts counts a table: per `owner_id` ("owner"), or one total for
 * everyone under the nil UUID ("all"). A list's unfiltered `count` reads it.
 */
export type RowCountScope = "owner" | "all";

/**
 * What the sync feed (GET /api/sync/, docs/SYNC.md) carries, in the order it
 * hands out changes made by one transaction: doctors before the patients
 * and mappings that may refer to them.
 */
export const SYNC_TYPES = ["doctor", "patient", "mapping"] as const;
export type SyncType = (typeof SYNC_TYPES)[number];
/** Who sees a synced table's rows: their owner ("owner"), or every user ("all"). */
export type SyncScope = "owner" | "all";
/** The tables the sync feed carries, filled by synced() below. */
export const SYNCED_TABLES: { table: PgTable; type: SyncType; scope: SyncScope }[] = [];

/**
 * Marks a table for the sync feed: scripts/lib/migrate.ts gives it its
 * triggers (sync_track, drizzle/0009), which stamp every written row with
 * the writing transaction's id and leave a tombstone for every deleted one.
 * The table declares the stamp itself (syncXid()) and its feed index.
 */
function synced<T extends PgTable>(table: T, type: SyncType, scope: SyncScope): T {
  SYNCED_TABLES.push({ table, type, scope });
  return table;
}

/** Postgres's 64-bit transaction id (xid8): compared, never converted, so JS keeps it as text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });
/** The id of the transaction that last wrote the row (set by sync_track's trigger): the sync feed's order. */
const syncXid = () => xid8("sync_xid").notNull().default(sql`pg_current_xact_id()`);

/** The tables row_counts keeps, filled by rowCounted() below. */
export const ROW_COUNTED_TABLES: { table: PgTable; scope: RowCountScope }[] = [];

/**
 * Marks a table for row_counts: scripts/lib/migrate.ts gives it its triggers
 * (row_counts_track, drizzle/0006) after the migrations, so a new table needs
 * no hand-written trigger migration.
 */
function rowCounted<T extends PgTable>(table: T, scope: RowCountScope): T {
  ROW_COUNTED_TABLES.push({ table, scope });
  return table;
}

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));
const id = () => uuid("id").primaryKey().defaultRandom();
const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 6, mode: "date" });
const createdAt = () => timestamptz("created_at").notNull().defaultNow();
const updatedAt = () => timestamptz("updated_at").notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: id(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** Self-describing PBKDF2 string: algorithm, iterations, salt, hash. */
    passwordHash: text("password_hash").notNull(),
    isAdmin: boolean("is_admin").notNull().default(false),
    /** A deactivated account cannot log in or refresh, and its access tokens are refused (authorised_actor, drizzle/0008). */
    isActive: boolean("is_active").notNull().default(true),
    /**
     * Access tokens issued at or before this instant are refused: set when the
     * account is deactivated, changes its password or is signed out
     * everywhere. NULL: no such event yet.
     */
    tokensValidAfter: timestamptz("tokens_valid_after"),
    lastLoginAt: timestamptz("last_login_at"),
    /** Bumped on every change an administrator can see (login included); the ETag is derived from it. */
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex(CONSTRAINTS.usersEmail).on(sql`lower(${t.email})`),
    check("users_email_normalised", sql`${t.email} = lower(btrim(${t.email}))`),
    check("users_name_length", sql`char_length(${t.name}) BETWEEN 1 AND 150`),
  ],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Every token descended from one login shares a family; reuse revokes the family. */
    familyId: uuid("family_id").notNull(),
    /** SHA-256 of the opaque token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz("expires_at").notNull(),
    /** Set when the token is exchanged for its successor. */
    usedAt: timestamptz("used_at"),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [
    unique("refresh_tokens_token_hash_key").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.familyId),
    index("refresh_tokens_user_idx").on(t.userId),
    // The scheduled clean-up finds expired tokens by it.
    index("refresh_tokens_expires_idx").on(t.expiresAt),
    check("refresh_tokens_expiry_after_creation", sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);

/** Login attempts per normalised email, keyed by an HMAC of it under JWT_SECRET (no address is kept, and none can be tested against the key without the secret). */
export const loginAttempts = pgTable(
  "login_attempts",
  {
    emailHash: text("email_hash").primaryKey(),
    failures: integer("failures").notNull().default(0),
    windowStartedAt: timestamptz("window_started_at").notNull().defaultNow(),
  },
  (t) => [check("login_attempts_failures_non_negative", sql`${t.failures} >= 0`), index("login_attempts_window_idx").on(t.windowStartedAt)],
);

export const patients = synced(
  rowCounted(
    pgTable(
      "patients",
      {
        id: id(),
        ownerId: uuid("owner_id")
          .notNull()
          .references(() => users.id),
        name: text("name").notNull(),
        dateOfBirth: date("date_of_birth", { mode: "string" }).notNull(),
        gender: text("gender", { enum: GENDERS }).notNull(),
        phone: text("phone"),
        email: text("email"),
        address: text("address"),
        medicalHistory: text("medical_history"),
        /** Bumped on every write; the ETag is derived from it. */
        version: integer("version").notNull().default(1),
        createdAt: createdAt(),
        updatedAt: updatedAt(),
        syncXid: syncXid(),
      },
      (t) => [
        // The owner's sync feed, in transaction order (docs/SYNC.md).
        index("patients_owner_sync_idx").on(t.ownerId, t.syncXid, t.id),
        // Lets mappings reference (patient, owner) so a mapping's owner can never disagree with its patient's.
        unique("patients_id_owner_key").on(t.id, t.ownerId),
        // The patient list: owner filter + each ordering (default created_at), ties broken by id.
        index("patients_owner_created_idx").on(t.ownerId, t.createdAt, t.id),
        index("patients_owner_name_idx").on(t.ownerId, t.name, t.id),
        index("patients_owner_date_of_birth_idx").on(t.ownerId, t.dateOfBirth, t.id),
        index("patients_owner_updated_idx").on(t.ownerId, t.updatedAt, t.id),
        check("patients_gender_valid", sql`${t.gender} IN (${inList(GENDERS)})`),
        check("patients_name_length", sql`char_length(${t.name}) BETWEEN 1 AND 200`),
        check("patients_date_of_birth_range", sql`${t.dateOfBirth} >= DATE '1900-01-01'`),
        check("patients_phone_length", sql`char_length(${t.phone}) BETWEEN 7 AND 32`),
        check("patients_address_length", sql`char_length(${t.address}) <= 500`),
        check("patients_medical_history_length", sql`char_length(${t.medicalHistory}) <= 10000`),
      ],
    ),
    "owner",
  ),
  "patient",
  "owner",
);

export const doctors = synced(
  rowCounted(
    pgTable(
      "doctors",
      {
        id: id(),
        createdBy: uuid("created_by")
          .notNull()
          .references(() => users.id),
        name: text("name").notNull(),
        specialization: text("specialization").notNull(),
        email: text("email"),
        phone: text("phone"),
        licenseNumber: text("license_number"),
        version: integer("version").notNull().default(1),
        createdAt: createdAt(),
        updatedAt: updatedAt(),
        syncXid: syncXid(),
      },
      (t) => [
        // Everyone's sync feed of the directory (docs/SYNC.md).
        index("doctors_sync_idx").on(t.syncXid, t.id),
        // License numbers are unique case-insensitively; many doctors may have none.
        uniqueIndex(CONSTRAINTS.doctorsLicenseNumber).on(sql`lower(${t.licenseNumber})`),
        // The doctor list's default order, and its exact specialization filter.
        index("doctors_created_idx").on(t.createdAt, t.id),
        index("doctors_specialization_idx").on(sql`lower(${t.specialization})`),
        index("doctors_created_by_idx").on(t.createdBy),
        check("doctors_name_length", sql`char_length(${t.name}) BETWEEN 1 AND 200`),
        check("doctors_specialization_length", sql`char_length(${t.specialization}) BETWEEN 1 AND 100`),
        check("doctors_license_number_length", sql`char_length(${t.licenseNumber}) BETWEEN 1 AND 50`),
      ],
    ),
    "all",
  ),
  "doctor",
  "all",
);

export const mappings = synced(
  rowCounted(
    pgTable(
      "patient_doctor_mappings",
      {
        id: id(),
        patientId: uuid("patient_id").notNull(),
        doctorId: uuid("doctor_id").notNull(),
        /** The patient's owner, copied so the owner's mapping list needs no join; the FK keeps it true. */
        ownerId: uuid("owner_id").notNull(),
        createdAt: createdAt(),
        syncXid: syncXid(),
      },
      (t) => [
        // The owner's sync feed (docs/SYNC.md).
        index("mappings_owner_sync_idx").on(t.ownerId, t.syncXid, t.id),
        unique("mappings_patient_doctor_key").on(t.patientId, t.doctorId),
        // Deleting a patient removes its mappings.
        foreignKey({
          name: CONSTRAINTS.mappingsPatient,
          columns: [t.patientId, t.ownerId],
          foreignColumns: [patients.id, patients.ownerId],
        }).onDelete("cascade"),
        // A doctor with mappings cannot be deleted.
        foreignKey({ name: CONSTRAINTS.mappingsDoctor, columns: [t.doctorId], foreignColumns: [doctors.id] }).onDelete("restrict"),
        index("mappings_owner_created_idx").on(t.ownerId, t.createdAt, t.id),
        index("mappings_patient_created_idx").on(t.patientId, t.createdAt, t.id),
        index("mappings_doctor_idx").on(t.doctorId),
      ],
    ),
    "owner",
  ),
  "mapping",
  "owner",
);

/**
 * What the sync feed remembers of deleted rows (docs/SYNC.md): the type, the
 * id and who may see it — never any of the row's data. Written by
 * sync_track's delete trigger (drizzle/0009), kept SYNC_TOMBSTONE_DAYS, then
 * removed by the scheduled clean-up.
 */
export const syncTombstones = pgTable(
  "sync_tombstones",
  {
    resourceType: text("resource_type", { enum: SYNC_TYPES }).notNull(),
    id: uuid("id").notNull(),
    /** The owner of a deleted patient or mapping; the nil UUID for a doctor, whom every user sees. */
    ownerId: uuid("owner_id").notNull(),
    /** The deleting transaction's id. */
    syncXid: syncXid(),
    deletedAt: timestamptz("deleted_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "sync_tombstones_pkey", columns: [t.resourceType, t.id] }),
    // One feed per (owner, type), in transaction order.
    index("sync_tombstones_feed_idx").on(t.ownerId, t.resourceType, t.syncXid, t.id),
    // The scheduled clean-up finds expired tombstones by it.
    index("sync_tombstones_deleted_idx").on(t.deletedAt),
    check("sync_tombstones_resource_type_valid", sql`${t.resourceType} IN (${inList(SYNC_TYPES)})`),
  ],
);

/**
 * Row counts per owner, kept by statement-level triggers (drizzle/0002, given
 * to each table marked rowCounted() by row_counts_track, drizzle/0006):
 * an unfiltered list's `count` is one index lookup instead of a scan of
 * every row the owner has. Doctors are counted under the nil UUID.
 */
export const rowCounts = pgTable(
  "row_counts",
  {
    tableName: text("table_name").notNull(),
    ownerId: uuid("owner_id").notNull(),
    total: bigint("total", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "row_counts_pkey", columns: [t.tableName, t.ownerId] }),
    check("row_counts_total_non_negative", sql`${t.total} >= 0`),
  ],
);

/**
 * Append-only trail of patient and mapping operations and administrative acts (docs/BEHAVIOUR.md): ids only,
 * never personal data. actor_id has no foreign key on purpose: the audit
 * insert rides in the same statement as the operation and must never be the
 * reason it fails.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    occurredAt: timestamptz("occurred_at").notNull().defaultNow(),
    actorId: uuid("actor_id").notNull(),
    action: text("action", { enum: AUDIT_ACTIONS }).notNull(),
    resourceType: text("resource_type", { enum: AUDIT_RESOURCE_TYPES }).notNull(),
    resourceId: uuid("resource_id"),
    /** The service's own id for the request: a client cannot choose what the trail says. */
    requestId: text("request_id").notNull(),
    /** The client's X-Request-Id when it sent a sane one, kept beside the service's for correlation. */
    clientRequestId: text("client_request_id"),
    outcome: text("outcome", { enum: AUDIT_OUTCOMES }).notNull(),
    /** For a successful update: the API names of the fields whose value it changed (never the values). NULL otherwise. */
    fields: text("fields").array(),
  },
  (t) => [
    // Newest first, with each filter's own index for the same order.
    index("audit_events_occurred_idx").on(t.occurredAt, t.id),
    index("audit_events_actor_idx").on(t.actorId, t.occurredAt),
    index("audit_events_resource_idx").on(t.resourceId, t.occurredAt),
    check("audit_events_action_valid", sql`${t.action} IN (${inList(AUDIT_ACTIONS)})`),
    check("audit_events_resource_type_valid", sql`${t.resourceType} IN (${inList(AUDIT_RESOURCE_TYPES)})`),
    check("audit_events_outcome_valid", sql`${t.outcome} IN (${inList(AUDIT_OUTCOMES)})`),
    check("audit_events_request_id_length", sql`char_length(${t.requestId}) BETWEEN 1 AND 128`),
    check("audit_events_fields_only_for_updates", sql`${t.fields} IS NULL OR ${t.action} = 'update'`),
    check("audit_events_client_request_id_length", sql`char_length(${t.clientRequestId}) BETWEEN 1 AND 128`),
  ],
);

/**
 * Idempotency keys (docs/BEHAVIOUR.md): one row per (user, key) for a write
 * that happened, inserted by the write's own statement. Ids, hashes and
 * statuses only: no body, and the key itself only as its SHA-256 (a client
 * may put anything in it).
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    userId: uuid("user_id").notNull(),
    /** SHA-256 of the Idempotency-Key header, base64url. */
    keyHash: text("key_hash").notNull(),
    /** SHA-256 of method, path and canonical JSON body, base64url. */
    fingerprint: text("fingerprint").notNull(),
    /** The status the first request answered. */
    status: integer("status").notNull(),
    resourceType: text("resource_type", { enum: IDEMPOTENT_RESOURCE_TYPES }).notNull(),
    resourceId: uuid("resource_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // The uniqueness that makes a racing duplicate fail rather than write twice.
    primaryKey({ name: CONSTRAINTS.idempotencyKeys, columns: [t.userId, t.keyHash] }),
    // The scheduled clean-up finds expired keys by it.
    index("idempotency_keys_created_idx").on(t.createdAt),
    check("idempotency_keys_resource_type_valid", sql`${t.resourceType} IN (${inList(IDEMPOTENT_RESOURCE_TYPES)})`),
    check("idempotency_keys_status_valid", sql`${t.status} IN (200, 201, 204)`),
  ],
);

export type User = typeof users.$inferSelect;
export type Patient = typeof patients.$inferSelect;
export type Doctor = typeof doctors.$inferSelect;
export type Mapping = typeof mappings.$inferSelect;
export type AuditEvent = typeof auditEvents.$inferSelect;
