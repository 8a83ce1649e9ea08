import { describe, expect, test } from 'bun:test';
import { Reclaimer } from '../../src/runtime/index.ts';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Reclaimer', () => {
  test('collects once the released count reaches the threshold, not before', async () => {
    let runs = 0;
    const reclaimer = new Reclaimer({ threshold: 3, minIntervalMs: 0, collect: () => runs++ });
    reclaimer.release();
    reclaimer.release();
    await settle(5);
    expect(runs).toBe(0);
    reclaimer.release();
    await settle(5);
    expect(runs).toBe(1);
    // The count starts again after a collection.
    reclaimer.release(2);
    await settle(5);
    expect(runs).toBe(1);
  });

  test('runs at most once per interval, however much is released meanwhile', async () => {
    let runs = 0;
    const timings: number[] = [];
    const reclaimer = new Reclaimer({
      threshold: 1,
      minIntervalMs: 60,
      collect: () => runs++,
      onCollected: (ms) => timings.push(ms),
    });
    reclaimer.release();
    await settle(5);
    expect(runs).toBe(1);
    for (let i = 0; i < 100; i++) reclaimer.release();
    await settle(20);
    expect(runs).toBe(1);
    await settle(80);
    expect(runs).toBe(2);
    expect(timings).toHaveLength(2);
  });

  test('stop cancels a scheduled collection', async () => {
    let runs = 0;
    const reclaimer = new Reclaimer({ threshold: 1, minIntervalMs: 50, collect: () => runs++ });
    reclaimer.release();
    await settle(5);
    reclaimer.release();
    reclaimer.stop();
    await settle(80);
    expect(runs).toBe(1);
  });
});
