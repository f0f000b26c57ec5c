/**
 * The shipper's buffer. Peek/ack (rather than take) gives at-least-once
 * delivery: a batch leaves the queue only after the collector accepted it.
 * A disk spool implements the same interface.
 */
export interface RecordQueue {
  /** Appends one serialized record; false when full (the caller counts the drop). */
  push(line: string): boolean;
  /** Up to `max` oldest lines, still queued. */
  peek(max: number): string[];
  /** Removes the `count` oldest lines (after they were shipped). */
  ack(count: number): void;
  readonly size: number;
}

export function createMemoryQueue(maxQueue: number): RecordQueue {
  let items: string[] = [];
  let head = 0;
  return {
    push(line) {
      if (items.length - head >= maxQueue) return false;
      items.push(line);
      return true;
    },
    peek(max) {
      return items.slice(head, head + max);
    },
    ack(count) {
      head = Math.min(head + count, items.length);
      // Compact once the dead prefix dominates, keeping push/ack amortised O(1).
      if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
    },
    get size() {
      return items.length - head;
    },
  };
}
