// MucStore on PostgreSQL: one row per persistent room, one per archived message.

import type pg from 'pg';
import type { MucStore, RoomMessage } from '../ports.ts';
import { transaction } from './transaction.ts';

export class PostgresMuc implements MucStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

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

  deleteRoom(service: string, room: string): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      await client.query(`DELETE FROM "${this.schema}".muc_messages WHERE service = $1 AND room = $2`, [service, room]);
      const r = await client.query(`DELETE FROM "${this.schema}".muc_rooms WHERE service = $1 AND room = $2`, [service, room]);
      return r.rowCount === 1;
    });
  }

  async publicRooms(service: string, limit: number): Promise<{ room: string; name: string }[]> {
    const r = await this.pool.query<{ room: string; name: string }>(`SELECT room, name FROM "${this.schema}".muc_rooms WHERE service = $1 AND public ORDER BY room LIMIT $2`, [service, limit]);
    return r.rows;
  }

  async appendMessage(service: string, room: string, message: { stanza: string; nick: string; at: Date }): Promise<string> {
    const r = await this.pool.query<{ id: string }>(`INSERT INTO "${this.schema}".muc_messages (service, room, nick, stanza, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
      service,
      room,
      message.nick,
      message.stanza,
      message.at,
    ]);
    return String(r.rows[0]!.id);
  }

  async messages(service: string, room: string, options: { limit: number; before?: string; after?: string; start?: Date; end?: Date }): Promise<RoomMessage[]> {
    const where = ['service = $1', 'room = $2'];
    const args: unknown[] = [service, room];
    const add = (clause: string, value: unknown): void => {
      args.push(value);
      where.push(clause.replace('?', `$${args.length}`));
    };
    if (options.before !== undefined) add('id < ?', options.before);
    if (options.after !== undefined) add('id > ?', options.after);
    if (options.start) add('at >= ?', options.start);
    if (options.end) add('at <= ?', options.end);
    const forward = options.after !== undefined;
    args.push(options.limit);
    const r = await this.pool.query<{ id: string; nick: string; stanza: string; at: Date }>(
      `SELECT id, nick, stanza, at FROM "${this.schema}".muc_messages WHERE ${where.join(' AND ')} ORDER BY id ${forward ? 'ASC' : 'DESC'} LIMIT $${args.length}`,
      args,
    );
    const rows = forward ? r.rows : r.rows.reverse();
    return rows.map((row) => ({ id: String(row.id), nick: row.nick, stanza: row.stanza, at: row.at }));
  }
}
