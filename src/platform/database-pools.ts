import { sql } from "drizzle-orm";
import { openDatabase, type DatabaseHandle } from "./db.ts";

export interface PoolSettings {
  /** Connections of the requests' pool of each database. */
  max: number;
  /** application_name of the connections (the background pool's get `:background`). */
  applicationName: string;
  prepare: boolean;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** The two pools a process keeps on one database. */
export interface DatabasePools {
  url: string;
  /** Requests and event handlers. */
  database: DatabaseHandle;
  /**
   * Relays, the mail dispatcher and the retention sweeper: leases, "sent" marks and deletions of expired rows, all
   * redone when lost, never waiting on requests' pool. One connection for each such loop (three relays, the mail
   * dispatcher, the sweeper): none waits for another's round trip.
   */
  background: DatabaseHandle;
}

/**
 * One pool pair per distinct database URL: modules that share a database share its pools (so one database means
 * the connections of one pair, as many as ever), a module with a database of its own gets a pair of its own.
 * No query yet: postgres.js connects on first use.
 */
export function openDatabasePools(urls: readonly string[], settings: PoolSettings) {
  const byUrl = new Map<string, DatabasePools>();
  const common = { prepare: settings.prepare, statementTimeoutMs: settings.statementTimeoutMs, idleInTransactionTimeoutMs: settings.idleInTransactionTimeoutMs };
  for (const url of new Set(urls)) {
    byUrl.set(url, {
      url,
      database: openDatabase(url, { ...common, max: settings.max, applicationName: settings.applicationName }),
      background: openDatabase(url, { ...common, max: 5, applicationName: `${settings.applicationName}:background`, synchronousCommit: false }),
    });
  }
  return {
    /** The pools of the database at `url` (one of those given). */
    of(url: string): DatabasePools {
      const pools = byUrl.get(url);
      if (!pools) throw new Error(`no pools were opened for the database ${url.replace(/\/\/([^:/@]+):([^@]+)@/, "//$1:***@")}`);
      return pools;
    },
    all: [...byUrl.values()],
    /** Answers when every database answers (readiness). */
    async ping(): Promise<void> {
      await Promise.all([...byUrl.values()].map((pools) => pools.database.db.execute(sql`select 1`)));
    },
    /**
     * Closes every pool at once: each waits up to 5 s for its queries to finish, then ends its connections. One after
     * the other, two pools with a connection left hanging by a database outage took 10 s and overran the shutdown.
     */
    async close(): Promise<void> {
      await Promise.all([...byUrl.values()].flatMap((pools) => [pools.background.close(), pools.database.close()]));
    },
  };
}

export type OpenDatabasePools = ReturnType<typeof openDatabasePools>;
