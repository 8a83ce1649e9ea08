/** A min-heap of timed events for the discrete-event simulation. */
export class EventQueue<T> {
  private readonly heap: Array<{ at: number; seq: number; event: T }> = [];
  private seq = 0;

  push(at: number, event: T): void {
    const item = { at, seq: this.seq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as typeof item, h[parent] as typeof item)) break;
      [h[i], h[parent]] = [h[parent] as typeof item, h[i] as typeof item];
      i = parent;
    }
  }

  pop(): { at: number; event: T } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined) return undefined;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as typeof last, h[m] as typeof last)) m = l;
        if (r < h.length && this.less(h[r] as typeof last, h[m] as typeof last)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as typeof last, h[i] as typeof last];
        i = m;
      }
    }
    return top;
  }

  get size(): number {
    return this.heap.length;
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}
