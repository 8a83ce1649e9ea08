import { describe, expect, test } from 'bun:test';
import { ScrapePacer } from '../../src/metrics/scrape-pacer.ts';

describe('ScrapePacer', () => {
  test('answers a burst up to the rate at once, then one per 1/rate s, in order', async () => {
    let now = 0;
    const pacer = new ScrapePacer({ perSecond: 5, now: () => now });
    const answered: number[] = [];
    const turns = Array.from({ length: 8 }, (_, i) => pacer.turn().then(() => answered.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toEqual([0, 1, 2, 3, 4]);
    now = 450; // two more tokens by now; the pacer's timer fires on the real clock
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(answered.length).toBeGreaterThanOrEqual(7);
    now = 1_000;
    await Promise.all(turns);
    expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    pacer.close();
  });

  test('refuses at once past maxWaiting, and close answers everyone waiting', async () => {
    const pacer = new ScrapePacer({ perSecond: 1, maxWaiting: 2, now: () => 0 });
    expect(await pacer.turn()).toBe(true);
    const waiting = [pacer.turn(), pacer.turn()];
    expect(await pacer.turn()).toBe(false);
    pacer.close();
    expect(await Promise.all(waiting)).toEqual([true, true]);
  });
});
