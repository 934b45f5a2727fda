// MucStore on PostgreSQL: one row per persistent room. (The muc_messages table
// of the same migration is unused: room messages went to the message archive.)

import type pg from 'pg';
import type { MucStore } from '../ports.ts';
import { mucBulk } from './postgres-bulk.ts';

export class PostgresMuc implements MucStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = mucBulk(pool, schema);
  }

  async getRoom(service: string, room: string): Promise<string | undefined> {
    const r = await this.pool.query<{ state: string }>(`SELECT state FROM "${this.schema}".muc_rooms WHERE service = $1 AND room = $2`, [service, room]);
    return r.rows[0]?.state;
  }

  async putRoom(service: string, room: string, state: string, listing: { public: boolean; name: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO "${this.schema}".muc_rooms (service, room, state, public, name) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (service, room) DO UPDATE SET state = EXCLUDED.state, public = EXCLUDED.public, name = EXCLUDED.name`,
      [service, room, state, listing.public, listing.name],
    );
  }

  async deleteRoom(service: string, room: string): Promise<boolean> {
    const r = await this.pool.query(`DELETE FROM "${this.schema}".muc_rooms WHERE service = $1 AND room = $2`, [service, room]);
    return r.rowCount === 1;
  }

  async publicRooms(service: string, limit: number): Promise<{ room: string; name: string }[]> {
    const r = await this.pool.query<{ room: string; name: string }>(`SELECT room, name FROM "${this.schema}".muc_rooms WHERE service = $1 AND public ORDER BY room LIMIT $2`, [service, limit]);
    return r.rows;
  }
}
