/** The operator profiler and the profile bench's op families, against shapes counted by hand. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { profileOps, withTimesOf, type OpEvent } from '../../src/engine/profile';
import { native } from '../../src/engine/native';
import { convFlops, convKind, ConvGeometry, summarise } from '../../bench/op_families';

const geometry = (input: number[], weight: number[], groups: number, o: Partial<ConvGeometry> = {}): ConvGeometry =>
  ({ input, weight, groups, stride: [1, 1], padding: [0, 0], dilation: [1, 1], ...o });

/** Multiply-adds of a convolution counted position by position (every tap, padded ones included). */
function bruteForceMacs(g: ConvGeometry, out: number[]): number {
  let macs = 0;
  const [, cinPerGroup, kh, kw] = g.weight;
  for (let b = 0; b < out[0]; b++) for (let co = 0; co < out[1]; co++) for (let y = 0; y < out[2]; y++) for (let x = 0; x < out[3]; x++) {
    for (let ci = 0; ci < cinPerGroup; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) macs++;
  }
  return macs;
}

describe('op families', () => {
  it('tells convolution kinds apart', () => {
    assert.equal(convKind(geometry([1, 8, 4, 4], [16, 8, 3, 3], 1)), 'dense kxk');
    assert.equal(convKind(geometry([1, 8, 4, 4], [16, 8, 1, 1], 1)), '1x1');
    assert.equal(convKind(geometry([1, 8, 4, 4], [8, 2, 1, 1], 4)), 'grouped 1x1');
    assert.equal(convKind(geometry([1, 8, 4, 4], [8, 2, 3, 3], 4)), 'grouped kxk');
    assert.equal(convKind(geometry([1, 8, 4, 4], [8, 1, 5, 5], 8)), 'depthwise');
  });

  it('counts FLOPs as a loop over output positions and taps does (stride, padding, dilation, odd sizes)', () => {
    const cases: [number[], number[], number, Partial<ConvGeometry>][] = [
      [[2, 6, 9, 7], [6, 1, 5, 5], 6, { padding: [2, 2] }],
      [[1, 4, 11, 5], [8, 2, 3, 3], 2, { stride: [2, 2], padding: [2, 2], dilation: [2, 2] }],
      [[3, 3, 8, 8], [5, 3, 1, 1], 1, {}],
    ];
    for (const [input, weight, groups, o] of cases) {
      const g = geometry(input, weight, groups, o);
      const y = T.conv2d(T.randn(input), T.randn(weight), { groups, stride: g.stride as [number, number], padding: g.padding as [number, number], dilation: g.dilation as [number, number] });
      assert.equal(convFlops(g), 2 * bruteForceMacs(g, y.shape), `conv ${JSON.stringify({ input, weight, groups, o })}`);
      y.dispose();
    }
  });
});

describe('profileOps', () => {
  it('records a convolution forward from JS and its backward node, with FLOPs in closed form', () => {
    const x = T.randn([2, 6, 9, 7]).setRequiresGrad();
    const w = T.randn([6, 1, 5, 5]).setRequiresGrad();
    const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.conv2d(x, w, { padding: 2, groups: 6 })))));
    const conv = events.find((e) => e.name === 'aten::conv2d');
    assert.ok(conv, 'aten::conv2d recorded');
    assert.equal(conv.depth, 0);
    assert.equal(conv.backward, false);
    assert.deepEqual(conv.args.slice(0, 2), [[2, 6, 9, 7], [6, 1, 5, 5]]);
    const rows = summarise(events);
    const fwd = rows.find((r) => r.family === 'conv depthwise fwd');
    const bwd = rows.find((r) => r.family === 'conv depthwise bwd');
    const flops = 2 * 2 * 6 * 9 * 7 * 25;
    assert.deepEqual([fwd?.calls, fwd?.flops], [1, flops]);
    assert.deepEqual([bwd?.calls, bwd?.flops], [1, 2 * flops], 'input and weight gradients: two forwards of FLOPs');
    assert.ok(events.every((e) => e.micros >= 0));
    T.dispose([x, w]);
  });

  it('timing only: the outermost operators of the same body, in the same order, without arguments; withTimesOf pairs them', () => {
    const x = T.randn([2, 6, 9, 7]).setRequiresGrad();
    const w = T.randn([6, 1, 5, 5]).setRequiresGrad();
    const body = () => T.tidy(() => T.backward(T.sum(T.relu(T.conv2d(x, w, { padding: 2, groups: 6 })))));
    const recorded = profileOps(body).events;
    const timed = profileOps(body, { timingOnly: true }).events;
    const outer = recorded.filter((e) => e.depth === 0);
    assert.ok(recorded.length > outer.length, 'the recording run sees nested operators');
    assert.deepEqual(timed.map((e) => [e.name, e.depth, e.backward]), outer.map((e) => [e.name, e.depth, e.backward]));
    assert.ok(timed.every((e) => e.args.length === 0 && e.micros >= 0));
    const paired = withTimesOf(recorded, timed);
    assert.deepEqual(paired.filter((e) => e.depth === 0).map((e) => e.micros), timed.map((e) => e.micros), 'the outermost times are the timed run\'s');
    assert.deepEqual(paired.filter((e) => e.depth > 0), recorded.filter((e) => e.depth > 0), 'nested events as recorded');
    assert.deepEqual(paired.map((e) => e.args), recorded.map((e) => e.args), 'arguments from the recording run');
    const families = (events: OpEvent[]) => summarise(events).map((r) => `${r.family} ${r.calls} ${r.flops}`).sort();
    assert.deepEqual(families(paired), families(recorded), 'the same families, calls and FLOPs');
    const other: OpEvent[] = timed.map((e, i) => (i === 1 ? { ...e, name: 'aten::other' } : e));
    assert.throws(() => withTimesOf(recorded, other), /withTimesOf: the two runs ran different operators .*first difference at 1: .* and aten::other/);
    assert.throws(() => withTimesOf(recorded, timed.slice(1)), /withTimesOf: the two runs ran different operators/);
    assert.throws(() => withTimesOf(recorded, timed.slice(0, -1)), /\(\d+ and \d+ outermost; first difference at \d+/);
    T.dispose([x, w]);
  });

  it('turns misuse into JS errors and stops cleanly after a throwing body', () => {
    assert.throws(() => profileOps(() => { throw new Error('body failed'); }), /body failed/);
    assert.throws(() => native.profileStop(), /profileStop: the profiler is not running/);
    assert.throws(() => profileOps(() => profileOps(() => 1)), /profileStart: the profiler is already running/);
    assert.throws(() => profileOps(() => profileOps(() => 1), { timingOnly: true }), /profileStart: the profiler is already running/);
    assert.equal(profileOps(() => 7).result, 7, 'usable again after both failures');
  });
});

describe('profileOps and the addon\'s own kernels', () => {
  it('counts the own-gradient depthwise op as a depthwise convolution, forward and backward', () => {
    const x = T.randn([2, 6, 9, 7]).setRequiresGrad();
    const w = T.randn([6, 1, 5, 5]).setRequiresGrad();
    const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.depthwiseConv2d(x, w, { padding: 2 })))));
    const rows = summarise(events);
    const flops = 2 * 2 * 6 * 9 * 7 * 25;
    assert.deepEqual(rows.filter((r) => r.family.startsWith('conv')).map((r) => [r.family, r.calls, r.flops]).sort(),
      [['conv depthwise bwd', 1, 2 * flops], ['conv depthwise fwd', 1, flops]]);
    T.dispose([x, w]);
  });

  it('counts the mixed depthwise op as depthwise convolutions, every weight\'s FLOPs forward and backward', () => {
    const x = T.randn([2, 12, 9, 7]).setRequiresGrad();
    const ws = [T.randn([6, 1, 3, 3]).setRequiresGrad(), T.randn([6, 1, 5, 5]).setRequiresGrad()];
    const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.mixedDepthwiseConv2d(x, ws)))));
    const flops = 2 * 2 * 6 * 9 * 7 * (9 + 25);
    assert.deepEqual(summarise(events).filter((r) => r.family.startsWith('conv')).map((r) => [r.family, r.calls, r.flops]).sort(),
      [['conv depthwise bwd', 1, 2 * flops], ['conv depthwise fwd', 1, flops]]);
    T.dispose([x, ...ws]);
  });

  it('counts the own 1x1 op as a grouped 1x1 convolution, backward FLOPs only for the gradients computed', () => {
    const x = T.randn([2, 12, 3, 5]).setRequiresGrad();
    const w = T.randn([9, 4, 1, 1]); // frozen: only the input gradient runs
    const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.pointwiseConv2d(x, w, 3)))));
    const rows = summarise(events);
    const flops = 2 * 2 * 9 * 3 * 5 * 4;
    assert.deepEqual(rows.filter((r) => r.family.startsWith('conv')).map((r) => [r.family, r.calls, r.flops]).sort(),
      [['conv grouped 1x1 bwd', 1, flops], ['conv grouped 1x1 fwd', 1, flops]]);
    T.dispose([x, w]);
  });
});
