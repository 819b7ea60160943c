/**
 * A minimal SQL client for command-line scripts: through the Neon HTTP
 * protocol when NEON_LOCAL_ENDPOINT is set (the dev database lives inside
 * the local endpoint's process), otherwise over Postgres's own protocol,
 * which Neon speaks too.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";

export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openSql(databaseUrl: string, localEndpoint?: string): Promise<SqlClient> {
  if (localEndpoint) {
    neonConfig.fetchEndpoint = localEndpoint;
    const sql = neon(databaseUrl);
    return {
      query: async <T>(text: string, params: unknown[] = []) => (await sql.query(text, params)) as T[],
      close: async () => {},
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    query: async <T>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as T[],
    close: () => client.end(),
  };
}
