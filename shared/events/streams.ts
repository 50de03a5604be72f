/**
 * Provisions a producing service's stream: `EVENTS_<NAME>` on
 * `events.<name>.>`, file storage, replicas from config, a duplicate window
 * longer than the relay's retry horizon, `discard: new`, no delete or purge.
 */
import { DiscardPolicy, type JetStreamManager, StorageType, type StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { streamName } from "./define.ts";

/** Two minutes: the relay re-publishes an unacknowledged event well within this. */
export const DUPLICATE_WINDOW_MS = 120_000;

export type StreamOptions = { service: string; replicas: number; maxBytes?: number };

/**
 * Creates the stream, or updates the settings that may change on a live one.
 *
 * @example
 * await ensureEventStream(await jetstreamManager(nc), { service: "runs", replicas: 1 });
 */
export async function ensureEventStream(jsm: JetStreamManager, options: StreamOptions): Promise<string> {
  const name = streamName(options.service);
  const config: Partial<StreamConfig> & { name: string } = {
    name,
    subjects: [`events.${options.service}.>`],
    storage: StorageType.File,
    num_replicas: options.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    discard: DiscardPolicy.New,
    deny_delete: true,
    deny_purge: true,
    max_bytes: options.maxBytes ?? -1,
  };
  try {
    await jsm.streams.info(name);
  } catch {
    try {
      await jsm.streams.add(config);
      return name;
    } catch (err) {
      // Another instance created it at the same moment.
      if (!/already in use|exists/i.test(String(err))) throw err;
    }
  }
  const { num_replicas: _r, storage: _s, ...mutable } = config;
  await jsm.streams.update(name, mutable);
  return name;
}
