/**
 * The announce subjects: a service says on `mesh.announce.<name>` that one of
 * its instances started or stopped, so the edge acts at once rather than at
 * the next sweep. An announcement speaks only for the service its subject
 * names, the one announce subject that service's NATS user may publish; one
 * naming another service is ignored (a warning at most every `warnEveryMs`,
 * since anyone who can publish can repeat it). The bare `mesh.announce` is
 * not listened to. Announcements are a hint: sweeps and pings still decide
 * what stays in the route table (discovery/index.ts).
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  ANNOUNCE_SUBJECT,
  type Announcement,
  announcedService,
  type Logger,
  parseAnnouncement,
} from "@runnerly/kit/web";
import { isAdr32Name } from "./registration.ts";

export type AnnouncementsOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** Told each announcement the edge may act on. */
  onAnnouncement: (a: Announcement) => void;
  /** At most one warning about ignored announcements per this many ms (default 10 s). */
  warnEveryMs?: number;
  now?: () => number;
};

/**
 * Subscribes to every service's announce subject (`mesh.announce.*`).
 *
 * @example
 * const sub = listenForAnnouncements({ nc, logger, onAnnouncement: (a) => table.remove(a.name, a.id) });
 */
export function listenForAnnouncements(options: AnnouncementsOptions): Subscription {
  const { nc, onAnnouncement } = options;
  const warn = throttledWarn(options.logger, options.warnEveryMs ?? 10_000, options.now);
  return nc.subscribe(ANNOUNCE_SUBJECT, {
    callback: function onAnnounce(err: Error | null, msg: Msg): void {
      const a = err ? `subscription failed: ${err}` : readAnnouncement(msg.subject, msg.data);
      if (typeof a === "string") warn({ subject: msg?.subject, why: a }, "ignoring an announcement");
      else onAnnouncement(a);
    },
  });
}

/**
 * The announcement a message carries, or why the edge may not act on it.
 *
 * @example
 * readAnnouncement("mesh.announce.stats", body); // "names runs on the subject of stats" when body.name is "runs"
 */
export function readAnnouncement(subject: string, data: Uint8Array): Announcement | string {
  const a = parseAnnouncement(data);
  if (!a || !isAdr32Name(a.name) || !isAdr32Name(a.id)) return "not an announcement";
  const speaksFor = announcedService(subject);
  if (a.name !== speaksFor) return `names ${a.name} on the subject of ${speaksFor ?? "no service"}`;
  return a;
}

/**
 * `logger.warn`, at most once every `everyMs` for one message text; the next
 * one says how many were held back in between.
 */
export function throttledWarn(
  logger: Logger,
  everyMs: number,
  now: () => number = Date.now,
): (fields: Record<string, unknown>, msg: string) => void {
  const last = new Map<string, { at: number; held: number }>();
  return function warn(fields, msg) {
    const t = now();
    const seen = last.get(msg);
    if (seen && t - seen.at < everyMs) {
      seen.held += 1;
      return;
    }
    logger.warn(seen?.held ? { ...fields, heldBack: seen.held } : fields, msg);
    last.set(msg, { at: t, held: 0 });
  };
}
